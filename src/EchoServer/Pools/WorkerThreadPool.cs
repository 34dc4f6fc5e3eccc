using System.Buffers;
using Microsoft.Extensions.Logging;

namespace EchoServer.Pools;

/// <summary>
/// A fixed set of dedicated, named threads pulling items from one shared bounded queue. Each worker runs
/// one item at a time, synchronously, with a buffer it keeps for life. A faulting item is logged and the
/// worker takes the next one: workers never die.
/// </summary>
internal sealed class WorkerThreadPool<T> : IWorkPool<T>
    where T : class
{
    private readonly Action<T, WorkerContext> _serve;
    private readonly ILogger _logger;
    private readonly int _bufferSize;
    private readonly PendingQueue<T> _queue;
    private readonly Thread[] _threads;
    private readonly WorkerContext?[] _contexts;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _busy;
    private int _running;
    private int _started;

    /// <param name="settings">Sizing and overload policy.</param>
    /// <param name="bufferSize">Bytes of the buffer each worker rents once and reuses.</param>
    /// <param name="serve">Runs one item on a worker thread; may block.</param>
    /// <param name="refuse">Called once for each item that will not be served, with the reason.</param>
    /// <param name="logger">Where faults are logged.</param>
    /// <param name="threadNamePrefix">Worker threads are named prefix-1, prefix-2, …</param>
    public WorkerThreadPool(
        PoolSettings settings,
        int bufferSize,
        Action<T, WorkerContext> serve,
        Action<T, PoolOutcome> refuse,
        ILogger logger,
        string threadNamePrefix = "echo-worker")
    {
        settings.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        Settings = settings;
        _bufferSize = bufferSize;
        _serve = serve;
        _logger = logger;
        _queue = new PendingQueue<T>(settings, settings.Workers, refuse, logger, Name);
        _threads = new Thread[settings.Workers];
        _contexts = new WorkerContext?[settings.Workers];
        for (int i = 0; i < _threads.Length; i++)
        {
            int index = i + 1;
            _threads[i] = new Thread(Work, maxStackSize: 256 * 1024)
            {
                IsBackground = true,
                Name = $"{threadNamePrefix}-{index}",
            };
        }
    }

    public string Name => "workers";

    public PoolSettings Settings { get; }

    // Slots are held by queued and running items alike (see PendingQueue); the queued ones are the rest.
    public int QueueLength => Math.Max(0, _queue.Held - Busy);

    public int Busy => Volatile.Read(ref _busy);

    public Task Completion => _completion.Task;

    /// <summary>The workers' contexts (index 0 is worker 1), for snapshots; null until a worker has started.</summary>
    public IReadOnlyList<WorkerContext?>? Workers => _contexts;

    /// <summary>Live queued items, oldest first, with when they were queued.</summary>
    public IEnumerable<PendingWork<T>> Queued => _queue.Snapshot();

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The pool is already started.");
        }

        _running = _threads.Length;
        using var ready = new CountdownEvent(_threads.Length);
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i].Start((i, ready));
        }

        ready.Wait();
        PoolLog.Started(_logger, Name, Settings.Workers, Settings.QueueCapacity, Settings.WhenFull);
    }

    public async ValueTask<Task<PoolOutcome>> SubmitAsync(T item, CancellationToken cancellationToken)
    {
        var work = new PendingWork<T>(item);
        await _queue.EnqueueOrRefuseAsync(work, cancellationToken);
        return work.Completion;
    }

    public void Complete()
    {
        if (Volatile.Read(ref _started) == 0)
        {
            Interlocked.Exchange(ref _started, 1);
            _queue.Complete();
            _completion.TrySetResult();
            return;
        }

        _queue.Complete();
    }

    public void Dispose()
    {
        Complete();

        // A worker still inside a session would touch the queue on its way out.
        if (Completion.IsCompleted)
        {
            _queue.Dispose();
        }
    }

    private void Work(object? state)
    {
        var (i, ready) = ((int, CountdownEvent))state!;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
        var context = new WorkerContext(i + 1, Thread.CurrentThread.Name!, buffer);
        Volatile.Write(ref _contexts[i], context);
        ready.Signal();
        try
        {
            while (_queue.Take(out var work))
            {
                try
                {
                    Run(work, context);
                }
                finally
                {
                    _queue.FreeSlot();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (Interlocked.Decrement(ref _running) == 0)
            {
                _completion.TrySetResult();
            }
        }
    }

    private void Run(PendingWork<T> work, WorkerContext context)
    {
        Interlocked.Increment(ref _busy);
        context.Current = work.Item;
        try
        {
            _serve(work.Item, context);
            work.SetOutcome(PoolOutcome.Served);
        }
#pragma warning disable CA1031 // A worker must survive whatever an item throws.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            PoolLog.ItemFaulted(_logger, ex, context.Name, Name);
            work.SetFault(ex);
        }
        finally
        {
            context.Current = null;
            Interlocked.Decrement(ref _busy);
        }
    }
}
