using System.Runtime.InteropServices;

namespace EchoServer.IoUring;

/// <summary>
/// A provided-buffer ring (IORING_REGISTER_PBUF_RING): buffers the kernel picks from when a receive completes, so
/// a connection waiting for data holds none. A buffer taken by a completion is this process's until
/// <see cref="Return"/> puts it back. Only a few buffers are provided at first, more (up to the ring's count) once
/// three quarters of them are taken at once: the kernel hands buffers out oldest first, so every buffer provided
/// is soon written into, and the pages written stay resident; provided as the load needs them, they grow with the
/// messages in hand at once, not with the ring's count. Not thread-safe: the ring's thread alone uses it.
/// </summary>
internal sealed unsafe class BufferRing : IDisposable
{
    private const int PageSize = 4096;

    private readonly Ring _ring;
    private readonly byte* _entries;
    private readonly byte* _memory;
    private readonly ushort _mask;
    private ushort _tail;
    private bool _registered;

    /// <param name="ring">The ring it is registered with.</param>
    /// <param name="group">The buffer group id requests name.</param>
    /// <param name="count">Buffers (a power of two, at most 32,768).</param>
    /// <param name="size">Bytes each.</param>
    /// <param name="initial">Buffers provided at first (at most <paramref name="count"/>; all of them when not given).</param>
    public BufferRing(Ring ring, ushort group, int count, int size, int? initial = null)
    {
        if (count is < 1 or > 32768 || (count & (count - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "a power of two up to 32768");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _ring = ring;
        Group = group;
        Count = count;
        BufferSize = size;
        _mask = (ushort)(count - 1);
        _entries = (byte*)NativeMemory.AlignedAlloc((nuint)(count * 16), PageSize);
        NativeMemory.Clear(_entries, (nuint)(count * 16));

        // Pages the kernel never wrote into stay untouched: memory grows with what the load uses, not with the count.
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)size, PageSize);
        var registration = stackalloc ulong[5];
        registration[0] = (ulong)_entries;
        registration[1] = (uint)count | ((ulong)group << 32); // ring_entries, then bgid and a zero pad
        registration[2] = registration[3] = registration[4] = 0;
        int result = Interop.Register(ring.Fd, RingConstants.RegisterPbufRing, registration, 1);
        if (result < 0)
        {
            Free();
            throw new RingException("IORING_REGISTER_PBUF_RING", -result);
        }

        _registered = true;
        ProvideUpTo(Math.Clamp(initial ?? count, 1, count));
    }

    public ushort Group { get; }

    public int Count { get; }

    public int BufferSize { get; }

    /// <summary>Buffers the kernel may fill now.</summary>
    public int Available { get; private set; }

    /// <summary>Buffers provided so far, taken or not (they grow up to <see cref="Count"/>, never shrink).</summary>
    public int Provided { get; private set; }

    /// <summary>Where buffer <paramref name="id"/> starts.</summary>
    public byte* Buffer(ushort id) => _memory + ((nuint)id * (nuint)BufferSize);

    /// <summary>Counts a buffer a completion took; provides more once three quarters are taken.</summary>
    public void Taken()
    {
        Available--;
        if (Available * 4 <= Provided)
        {
            TryGrow();
        }
    }

    /// <summary>Provides twice as many buffers (up to <see cref="Count"/>); false when all are provided already.</summary>
    public bool TryGrow()
    {
        if (Provided == Count)
        {
            return false;
        }

        ProvideUpTo(Math.Min(Count, Provided * 2));
        return true;
    }

    /// <summary>Puts buffer <paramref name="id"/> back for the kernel to fill.</summary>
    public void Return(ushort id)
    {
        byte* entry = _entries + ((_tail & _mask) * 16);
        *(ulong*)entry = (ulong)Buffer(id);
        *(uint*)(entry + 8) = (uint)BufferSize;
        *(ushort*)(entry + 12) = id;
        _tail++;

        // The tail shares the first entry's last two bytes; release: the entry is written before the kernel sees it.
        Volatile.Write(ref *(ushort*)(_entries + 14), _tail);
        Available++;
    }

    public void Dispose()
    {
        if (_registered)
        {
            _registered = false;
            var registration = stackalloc ulong[5];
            registration[0] = 0;
            registration[1] = (ulong)Group << 32;
            registration[2] = registration[3] = registration[4] = 0;
            _ = Interop.Register(_ring.Fd, RingConstants.UnregisterPbufRing, registration, 1);
            Free();
        }
    }

    private void ProvideUpTo(int provided)
    {
        while (Provided < provided)
        {
            Return((ushort)Provided++);
        }
    }

    private void Free()
    {
        NativeMemory.AlignedFree(_entries);
        NativeMemory.AlignedFree(_memory);
    }
}
