using System.Runtime.InteropServices;

namespace EchoServer.IoUring;

/// <summary>The kernel's io_uring system calls and the few libc calls around them (no liburing).</summary>
internal static unsafe partial class Interop
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EBUSY = 16;
    public const int EINVAL = 22;
    public const int EPIPE = 32;
    public const int ENOSYS = 38;
    public const int EPERM = 1;
    public const int ENOBUFS = 105;
    public const int ECONNRESET = 104;
    public const int ECANCELED = 125;
    public const int EALREADY = 114;

    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;

    // The same numbers on x86-64 and arm64 (asm-generic): io_uring came after the tables were unified.
    private const long SysSetup = 425;
    private const long SysEnter = 426;
    private const long SysRegister = 427;

    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int MapShared = 0x01;
    private const int MapPopulate = 0x8000;
    private const int EfdCloexec = 0x80000;

    /// <summary>io_uring_setup(2); the ring's descriptor, or -errno.</summary>
    public static int Setup(uint entries, RingParams* parameters) => Result(Syscall(SysSetup, (nint)entries, (nint)parameters, 0, 0, 0, 0));

    /// <summary>io_uring_enter(2) without a signal mask; events completed or submitted, or -errno.</summary>
    public static int Enter(int ring, uint toSubmit, uint minComplete, uint flags) => Result(Syscall(SysEnter, ring, (nint)toSubmit, (nint)minComplete, (nint)flags, 0, 0));

    /// <summary>io_uring_register(2); 0 (or a count), or -errno.</summary>
    public static int Register(int ring, uint opcode, void* arg, uint count) => Result(Syscall(SysRegister, ring, (nint)opcode, (nint)arg, (nint)count, 0, 0));

    /// <summary>Maps <paramref name="length"/> bytes of the ring at <paramref name="offset"/>, shared with the kernel; null on failure.</summary>
    public static byte* MapRing(int ring, nuint length, long offset)
    {
        void* address = Mmap(null, length, ProtRead | ProtWrite, MapShared | MapPopulate, ring, offset);
        return address == (void*)-1 ? null : (byte*)address;
    }

    public static void Unmap(void* address, nuint length) => _ = Munmap(address, length);

    public static int CreateEventFd() => EventFd(0, EfdCloexec);

    /// <summary>Adds one to an eventfd's counter; the only failure left (the counter's overflow) cannot happen at one a wake.</summary>
    public static void Signal(int eventFd)
    {
        ulong one = 1;
        _ = Write(eventFd, &one, sizeof(ulong));
    }

    public static void CloseDescriptor(int fd) => _ = Close(fd);

    /// <summary>send(2); the bytes the kernel took, or -errno.</summary>
    public static int SendNow(int fd, void* buffer, int length, int flags) => (int)ResultOf(SendCall(fd, buffer, (nuint)length, flags));

    private static int Result(long value) => value < 0 ? -Marshal.GetLastPInvokeError() : (int)value;

    private static nint ResultOf(nint value) => value < 0 ? -Marshal.GetLastPInvokeError() : value;

    // syscall(2) is variadic; every argument here is a register-sized integer, which the calling conventions of
    // x86-64 and arm64 (Linux) pass the same way to a variadic function as to a fixed one.
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SendCall(int fd, void* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
