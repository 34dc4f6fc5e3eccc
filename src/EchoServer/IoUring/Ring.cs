namespace EchoServer.IoUring;

/// <summary>
/// One io_uring instance: the submission and completion rings mapped from the kernel, requests written in place
/// and handed over by moving the tail, completions read in place and released by moving the head. Not thread-safe:
/// it belongs to the thread that created it (set up single-issuer, with deferred task work, so the kernel runs a
/// completion's work only when that thread asks for completions).
/// </summary>
internal sealed unsafe class Ring : IDisposable
{
    private readonly int _fd;
    private readonly byte* _rings;
    private readonly nuint _ringsLength;
    private readonly byte* _cqRing;
    private readonly nuint _cqRingLength;
    private readonly Sqe* _sqes;
    private readonly nuint _sqesLength;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _tail;
    private bool _disposed;

    private Ring(int fd, in RingParams p, byte* rings, nuint ringsLength, byte* cqRing, nuint cqRingLength, Sqe* sqes, nuint sqesLength)
    {
        _fd = fd;
        _rings = rings;
        _ringsLength = ringsLength;
        _cqRing = cqRing;
        _cqRingLength = cqRingLength;
        _sqes = sqes;
        _sqesLength = sqesLength;
        _sqHead = (uint*)(rings + p.SqHead);
        _sqTail = (uint*)(rings + p.SqTail);
        _sqMask = *(uint*)(rings + p.SqRingMask);
        _sqEntries = *(uint*)(rings + p.SqRingEntries);
        byte* cq = cqRing is null ? rings : cqRing;
        _cqHead = (uint*)(cq + p.CqHead);
        _cqTail = (uint*)(cq + p.CqTail);
        _cqMask = *(uint*)(cq + p.CqRingMask);
        _cqes = (Cqe*)(cq + p.CqCqes);
        _tail = *_sqTail;

        // The submission ring indexes the request array; an identity map set once lets a request's slot be its tail.
        uint* array = (uint*)(rings + p.SqArray);
        for (uint i = 0; i < _sqEntries; i++)
        {
            array[i] = i;
        }
    }

    /// <summary>The ring's descriptor, for io_uring_register.</summary>
    public int Fd => _fd;

    /// <summary>Requests the submission ring holds.</summary>
    public uint SubmissionEntries => _sqEntries;

    /// <summary>Requests written but not yet handed to the kernel.</summary>
    public uint Unsubmitted => _tail - Volatile.Read(ref *_sqHead);

    /// <summary>Sets up a ring on the calling thread, which alone may use it; throws <see cref="RingException"/> with the kernel's errno.</summary>
    /// <param name="entries">Submission ring size (a power of two).</param>
    /// <param name="completionEntries">Completion ring size (a power of two, at least <paramref name="entries"/>).</param>
    public static Ring Create(uint entries, uint completionEntries)
    {
        var p = new RingParams
        {
            Flags = RingConstants.SetupSingleIssuer | RingConstants.SetupDeferTaskrun | RingConstants.SetupCqSize | RingConstants.SetupSubmitAll,
            CqEntries = completionEntries,
        };
        int fd = Interop.Setup(entries, &p);
        if (fd < 0)
        {
            throw new RingException("io_uring_setup", -fd);
        }

        try
        {
            nuint sqLength = p.SqArray + (p.SqEntries * sizeof(uint));
            nuint cqLength = p.CqCqes + (p.CqEntries * (uint)sizeof(Cqe));
            bool single = (p.Features & RingConstants.FeatSingleMmap) != 0;
            nuint ringsLength = single ? Math.Max(sqLength, cqLength) : sqLength;
            byte* rings = Interop.MapRing(fd, ringsLength, RingConstants.OffSqRing);
            if (rings is null)
            {
                throw new RingException("mmap", Interop.ENOMEM);
            }

            byte* cqRing = null;
            if (!single)
            {
                cqRing = Interop.MapRing(fd, cqLength, RingConstants.OffCqRing);
                if (cqRing is null)
                {
                    Interop.Unmap(rings, ringsLength);
                    throw new RingException("mmap", Interop.ENOMEM);
                }
            }

            nuint sqesLength = p.SqEntries * (uint)sizeof(Sqe);
            var sqes = (Sqe*)Interop.MapRing(fd, sqesLength, RingConstants.OffSqes);
            if (sqes is null)
            {
                Interop.Unmap(rings, ringsLength);
                if (cqRing is not null)
                {
                    Interop.Unmap(cqRing, cqLength);
                }

                throw new RingException("mmap", Interop.ENOMEM);
            }

            return new Ring(fd, p, rings, ringsLength, cqRing, single ? 0 : cqLength, sqes, sqesLength);
        }
        catch
        {
            Interop.CloseDescriptor(fd);
            throw;
        }
    }

    /// <summary>
    /// The next free request, zeroed, or null while the submission ring is full (then <see cref="Submit"/> first).
    /// It is handed over with the next <see cref="Submit"/> or <see cref="SubmitAndWait"/>.
    /// </summary>
    public Sqe* NextSqe()
    {
        if (_tail - Volatile.Read(ref *_sqHead) >= _sqEntries)
        {
            return null;
        }

        Sqe* sqe = &_sqes[_tail & _sqMask];
        *sqe = default;
        _tail++;

        // Published at once: the kernel reads the tail only inside io_uring_enter, on this thread.
        Volatile.Write(ref *_sqTail, _tail);
        return sqe;
    }

    /// <summary>Hands the written requests to the kernel without waiting; returns how many it took, or -errno.</summary>
    public int Submit() => Enter(0);

    /// <summary>
    /// Hands the written requests to the kernel and waits until at least <paramref name="minComplete"/>
    /// completions are there (0: only runs the completions' deferred work); returns -errno on failure
    /// (-EINTR when a signal interrupted the wait).
    /// </summary>
    public int SubmitAndWait(uint minComplete) => Enter(minComplete);

    /// <summary>Copies up to <paramref name="into"/>'s length of completions and releases them to the kernel; returns how many.</summary>
    public int Reap(Span<Cqe> into)
    {
        uint head = *_cqHead;
        uint tail = Volatile.Read(ref *_cqTail); // acquire: the completions' contents are visible once the tail is
        int count = 0;
        while (head != tail && count < into.Length)
        {
            into[count++] = _cqes[head & _cqMask];
            head++;
        }

        Volatile.Write(ref *_cqHead, head); // release: the kernel may reuse the entries once we moved past them
        return count;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Interop.Unmap(_sqes, _sqesLength);
        if (_cqRing is not null)
        {
            Interop.Unmap(_cqRing, _cqRingLength);
        }

        Interop.Unmap(_rings, _ringsLength);
        Interop.CloseDescriptor(_fd); // the kernel cancels what is still in flight
    }

    private int Enter(uint minComplete)
    {
        uint pending = Unsubmitted;
        return Interop.Enter(_fd, pending, minComplete, RingConstants.EnterGetEvents);
    }
}
