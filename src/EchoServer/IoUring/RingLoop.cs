using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace EchoServer.IoUring;

/// <summary>
/// One ring and the thread that owns it. The thread reaps completions and runs what they complete inline (the
/// sessions' continuations, which write the next requests), then hands every request written meanwhile to the
/// kernel in one io_uring_enter that also waits for the next completion: one system call per round, however many
/// connections it served. Other threads reach it with <see cref="Post"/> (an eventfd read wakes the wait).
/// </summary>
internal sealed unsafe class RingLoop : IDisposable
{
    private const int WakeIndex = 0;
    private const int ReapBatch = 256;

    /// <summary>Provided buffers a ring starts with; more as the load needs them (<see cref="BufferRing"/>).</summary>
    private const int InitialBuffers = 64;

    private readonly ConcurrentQueue<(Action<object?> Work, object? State)> _posted = new();
    private readonly ManualResetEventSlim _ready = new();
    private readonly Lock _eventFdLock = new();
    private readonly Queue<RingSocket> _starved = new();
    private readonly Stack<int> _freeIndexes = new();
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly int _bufferCount;
    private readonly int _bufferSize;
    private RingSocket?[] _sockets = new RingSocket?[64];
    private int _nextIndex = WakeIndex + 1;
    private Ring? _ring;
    private BufferRing? _buffers;
    private int _eventFd = -1;
    private ulong* _wakeValue;
    private int _signalled;
    private int _sessions;
    private bool _alone;
    private volatile bool _stopRequested;
    private RingException? _setupError;

    /// <param name="name">The thread's name.</param>
    /// <param name="bufferCount">Provided buffers (a power of two).</param>
    /// <param name="bufferSize">Bytes each.</param>
    /// <param name="logger">Where faults are logged.</param>
    public RingLoop(string name, int bufferCount, int bufferSize, ILogger logger)
    {
        _bufferCount = bufferCount;
        _bufferSize = bufferSize;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.UnsafeStart();
        _ready.Wait();
        if (_setupError is { } error)
        {
            throw error;
        }
    }

    public string Name => _thread.Name!;

    /// <summary>True on the ring's own thread, the only one that may touch the ring, its buffers and its sockets.</summary>
    public bool OnLoopThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    internal BufferRing Buffers => _buffers!;

    /// <summary>
    /// True while the ring runs the only completion of its round with nothing else to submit: a request written
    /// now would be the round's only one, so a direct system call costs no more and saves the wait for its completion.
    /// </summary>
    internal bool Alone => _alone && _ring!.Unsubmitted == 0;

    /// <summary>An awaitable that resumes on the ring's thread (at once when already there).</summary>
    public LoopSwitch SwitchTo() => new(this);

    /// <summary>Counts a session that will use the ring: the thread outlives every session counted.</summary>
    public void SessionStarted() => Interlocked.Increment(ref _sessions);

    public void SessionEnded()
    {
        if (Interlocked.Decrement(ref _sessions) == 0 && _stopRequested)
        {
            Wake();
        }
    }

    /// <summary>Runs <paramref name="work"/> on the ring's thread, soon; from any thread.</summary>
    public void Post(Action<object?> work, object? state)
    {
        _posted.Enqueue((work, state));
        Wake();
    }

    /// <summary>The next request to fill; submits what is written first if the submission ring is full.</summary>
    internal Sqe* NextSqe()
    {
        Sqe* sqe = _ring!.NextSqe();
        while (sqe is null)
        {
            _ = _ring.Submit();
            sqe = _ring.NextSqe();
        }

        return sqe;
    }

    internal int Add(RingSocket socket)
    {
        int index = _freeIndexes.Count > 0 ? _freeIndexes.Pop() : _nextIndex++;
        if (index >= _sockets.Length)
        {
            Array.Resize(ref _sockets, _sockets.Length * 2);
        }

        _sockets[index] = socket;
        return index;
    }

    internal void Remove(int index)
    {
        _sockets[index] = null;
        _freeIndexes.Push(index);
    }

    /// <summary>A socket that wants data while no buffer is free: armed again once one comes back, oldest first.</summary>
    internal void Starve(RingSocket socket) => _starved.Enqueue(socket);

    internal void ReturnBuffer(ushort id) => _buffers!.Return(id);

    /// <summary>Stops the thread once every session counted has ended (it waits for them, at most <paramref name="wait"/>).</summary>
    public bool Stop(TimeSpan wait)
    {
        _stopRequested = true;
        Wake();
        return _thread.Join(wait);
    }

    public void Dispose()
    {
        if (Stop(TimeSpan.FromSeconds(1)))
        {
            _ready.Dispose();
        }
    }

    private void Wake()
    {
        // One write per wake-up: later posts see the flag and ride on it until the thread takes the wake-up.
        if (Interlocked.CompareExchange(ref _signalled, 1, 0) == 0)
        {
            // Under the lock the ring's thread closes the eventfd with: a wake racing the thread's exit (the last
            // session's end, a stop) must not write 8 bytes into whatever descriptor reused the number.
            lock (_eventFdLock)
            {
                if (_eventFd >= 0)
                {
                    Interop.Signal(_eventFd);
                }
            }
        }
    }

    private void Run()
    {
        try
        {
            _ring = Ring.Create(1024, 4096);
            _buffers = new BufferRing(_ring, 0, _bufferCount, _bufferSize, InitialBuffers);
            _wakeValue = (ulong*)NativeMemory.Alloc(sizeof(ulong));
            _eventFd = Interop.CreateEventFd();
            if (_eventFd < 0)
            {
                throw new RingException("eventfd", Interop.ENOMEM);
            }
        }
        catch (RingException ex)
        {
            _buffers?.Dispose();
            _ring?.Dispose();
            _setupError = ex;
            _ready.Set();
            return;
        }

        _ready.Set();
        ArmWake();
        Span<Cqe> completions = stackalloc Cqe[ReapBatch];
        while (true)
        {
            int reaped = _ring.Reap(completions);
            _alone = reaped == 1;
            for (int i = 0; i < reaped; i++)
            {
                Dispatch(completions[i]);
            }

            _alone = false;

            if (reaped == ReapBatch)
            {
                continue; // more are waiting: take them before entering the kernel
            }

            RunPosted();
            RearmStarved();
            if (_stopRequested && Volatile.Read(ref _sessions) == 0 && _posted.IsEmpty)
            {
                break;
            }

            int entered = _ring.SubmitAndWait(1);
            if (entered < 0 && entered is not -Interop.EINTR and not -Interop.EAGAIN and not -Interop.EBUSY)
            {
                RingLog.EnterFailed(_logger, Name, ErrnoNames.Describe(-entered));
            }
        }

        _buffers.Dispose();
        _ring.Dispose(); // the kernel cancels the eventfd read still in flight
        lock (_eventFdLock)
        {
            Interop.CloseDescriptor(_eventFd);
            _eventFd = -1;
        }

        // Not freed: the read the ring's teardown cancels may still be in the kernel's hands; 8 bytes a ring.
        _wakeValue = null;
    }

    private void Dispatch(in Cqe completion)
    {
        try
        {
            var (index, kind) = RingSocket.Decode(completion.UserData);
            if (index == WakeIndex)
            {
                Volatile.Write(ref _signalled, 0);
                ArmWake();
                return;
            }

            if (_sockets[index] is { } socket)
            {
                socket.OnCompletion(kind, completion);
            }
        }
#pragma warning disable CA1031 // A fault in one session's completion must not stop the ring every other session runs on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RingLog.WorkFaulted(_logger, ex, Name);
        }
    }

    private void RunPosted()
    {
        while (_posted.TryDequeue(out var item))
        {
            try
            {
                item.Work(item.State);
            }
#pragma warning disable CA1031 // Same: contained, logged, the ring goes on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RingLog.WorkFaulted(_logger, ex, Name);
            }
        }
    }

    private void RearmStarved()
    {
        // First starved, first armed: a socket that keeps finding no buffer is not passed over by newer ones.
        while (_buffers!.Available > 0 && _starved.TryDequeue(out var socket))
        {
            socket.Rearm(); // a socket closed meanwhile does nothing
        }
    }

    private void ArmWake()
    {
        Sqe* sqe = NextSqe();
        sqe->Opcode = RingConstants.OpRead;
        sqe->Fd = _eventFd;
        sqe->Address = (ulong)_wakeValue; // native: the kernel writes it whenever the read completes
        sqe->Length = sizeof(ulong);
        sqe->UserData = RingSocket.Encode(WakeIndex, RingOp.Wake);
    }
}
