using System.Runtime.InteropServices;

namespace EchoServer.IoUring;

/// <summary>struct io_uring_cqe (16 bytes): one completion.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct Cqe
{
    public readonly ulong UserData;
    public readonly int Result;
    public readonly uint Flags;

    public Cqe(ulong userData, int result, uint flags)
    {
        UserData = userData;
        Result = result;
        Flags = flags;
    }

    /// <summary>The request goes on producing completions (multishot).</summary>
    public bool More => (Flags & RingConstants.CqeMore) != 0;

    /// <summary>The provided buffer this completion filled, if it has one.</summary>
    public bool HasBuffer => (Flags & RingConstants.CqeBuffer) != 0;

    public ushort BufferId => (ushort)(Flags >> 16);
}
