using Microsoft.Extensions.Logging;

namespace EchoServer.Pools;

/// <summary>
/// A bounded executor in the manner of Java's ThreadPoolExecutor: at most <c>Workers</c> items run at once
/// as asynchronous tasks on the .NET thread pool, at most <c>QueueCapacity</c> wait, and the overload policy
/// decides the rest. No thread is held by a waiting or idle item, so tens of thousands of slots are sane.
/// </summary>
internal sealed class BoundedExecutor<T> : IWorkPool<T>
    where T : class
{
    private readonly Func<T, ValueTask> _serve;
    private readonly ILogger _logger;
    private readonly PendingQueue<T> _queue;
    private readonly Action<PendingWork<T>> _runOnThreadPool;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private volatile bool _completed;

    /// <param name="settings">Sizing and overload policy.</param>
    /// <param name="serve">Runs one item asynchronously; it should not block its thread.</param>
    /// <param name="refuse">Called once for each item that will not be served, with the reason.</param>
    /// <param name="logger">Where faults are logged.</param>
    public BoundedExecutor(PoolSettings settings, Func<T, ValueTask> serve, Action<T, PoolOutcome> refuse, ILogger logger)
    {
        settings.Validate();
        Settings = settings;
        _serve = serve;
        _logger = logger;
        _queue = new PendingQueue<T>(settings, 0, refuse, logger, Name);
        _runOnThreadPool = work => _ = RunAsync(work);
    }

    public string Name => "executor";

    public PoolSettings Settings { get; }

    public int QueueLength => _queue.Held;

    public int Busy => Volatile.Read(ref _running);

    public Task Completion => _completion.Task;

    /// <summary>Live queued items, oldest first, with when they were queued.</summary>
    public IEnumerable<PendingWork<T>> Queued => _queue.Snapshot();

    /// <summary>No dedicated workers: running sessions are found through the connections themselves.</summary>
    public IReadOnlyList<WorkerContext?>? Workers => null;

    public void Start() => PoolLog.Started(_logger, Name, Settings.Workers, Settings.QueueCapacity, Settings.WhenFull);

    public async ValueTask<Task<PoolOutcome>> SubmitAsync(T item, CancellationToken cancellationToken)
    {
        var work = new PendingWork<T>(item);
        if (_completed)
        {
            _queue.Refuse(work, PoolOutcome.Shutdown);
            return work.Completion;
        }

        if (TryTakeSlot())
        {
            work.TryClaim();
            Dispatch(work);
            return work.Completion;
        }

        await _queue.EnqueueOrRefuseAsync(work, cancellationToken);

        // A slot may have been freed between TryTakeSlot and the enqueue: whoever publishes last pumps.
        Pump();
        return work.Completion;
    }

    public void Complete()
    {
        _completed = true;
        _queue.Complete();
        if (Volatile.Read(ref _running) == 0)
        {
            _completion.TrySetResult();
        }
    }

    public void Dispose()
    {
        Complete();
        _queue.Dispose();
    }

    private bool TryTakeSlot()
    {
        int running = Volatile.Read(ref _running);
        while (running < Settings.Workers)
        {
            int seen = Interlocked.CompareExchange(ref _running, running + 1, running);
            if (seen == running)
            {
                return true;
            }

            running = seen;
        }

        return false;
    }

    /// <summary>Starts queued items while slots are free.</summary>
    private void Pump()
    {
        while (_queue.Held > 0 && TryTakeSlot())
        {
            if (_queue.TryTake(out var next))
            {
                _queue.FreeSlot();
                Dispatch(next);
            }
            else
            {
                ReleaseSlot();
                return;
            }
        }
    }

    // The submitter is the accept loop: never run a session's first synchronous part on it.
    private void Dispatch(PendingWork<T> work) => ThreadPool.UnsafeQueueUserWorkItem(_runOnThreadPool, work, preferLocal: false);

    private async Task RunAsync(PendingWork<T> work)
    {
        try
        {
            await _serve(work.Item);
            work.SetOutcome(PoolOutcome.Served);
        }
#pragma warning disable CA1031 // A faulting item must free its slot and leave the executor running.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            PoolLog.ItemFaulted(_logger, ex, Name, Name);
            work.SetFault(ex);
        }
        finally
        {
            ReleaseSlot();
            Pump();
        }
    }

    private void ReleaseSlot()
    {
        if (Interlocked.Decrement(ref _running) == 0 && _completed)
        {
            _completion.TrySetResult();
        }
    }
}
