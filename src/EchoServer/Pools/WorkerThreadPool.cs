using Microsoft.Extensions.Logging;

namespace EchoServer.Pools;

/// <summary>
/// A fixed set of dedicated, named threads fed by one shared admission queue: the classic thread-per-client
/// model. Each worker runs one item at a time, synchronously, for as long as the item lasts. A faulting item
/// is logged and the worker takes the next one: workers never die. <see cref="Complete"/> refuses the items
/// still queued and lets the running ones finish.
/// </summary>
internal sealed class WorkerThreadPool<T> : IWorkPool<T>
    where T : class
{
    private readonly Action<T, string> _serve;
    private readonly Action<T, CloseReason> _refuse;
    private readonly ILogger _logger;
    private readonly AdmissionQueue<T> _queue;
    private readonly Thread[] _threads;
    private readonly WorkerThread<T>[] _workers;

    // Granted items on their way to a thread. It never holds more than the idle workers can take, so it needs
    // no bound of its own; workers park on it with Monitor.Wait, which blocks without a spinning phase.
    private readonly Queue<T> _granted = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;
    private int _alive;
    private int _started;

    /// <param name="settings">Sizing and overload policy.</param>
    /// <param name="serve">Runs one item on a worker thread (given the worker's name); may block.</param>
    /// <param name="refuse">Called once for each item that will not be served, with the reason.</param>
    /// <param name="logger">Where faults are logged.</param>
    /// <param name="threadNamePrefix">Worker threads are named prefix-1, prefix-2, …</param>
    /// <param name="slotWaited">Called for every item granted a worker with how long it waited for one.</param>
    public WorkerThreadPool(PoolSettings settings, Action<T, string> serve, Action<T, CloseReason> refuse, ILogger logger, string threadNamePrefix = "echo-worker", Action<TimeSpan>? slotWaited = null)
    {
        settings.Validate();
        Settings = settings;
        _serve = serve;
        _refuse = refuse;
        _logger = logger;
        _queue = new AdmissionQueue<T>(settings.Workers, settings, HandOff, SafeRefuse, slotWaited);
        _threads = new Thread[settings.Workers];
        _workers = new WorkerThread<T>[settings.Workers];
        for (int i = 0; i < _threads.Length; i++)
        {
            _workers[i] = new WorkerThread<T>($"{threadNamePrefix}-{i + 1}");
            _threads[i] = new Thread(Work, maxStackSize: 256 * 1024) { IsBackground = true, Name = _workers[i].Name };
        }
    }

    public PoolKind Kind => PoolKind.Workers;

    public PoolSettings Settings { get; }

    public PoolLoad Load => new(_queue.Busy, _queue.Waiting);

    public Task Completion => _completion.Task;

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The pool is already started.");
        }

        _alive = _threads.Length;
        using var ready = new CountdownEvent(_threads.Length);
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i].Start((_workers[i], ready));
        }

        ready.Wait();
        PoolLog.Started(_logger, Kind.ToName(), Settings.Workers, Settings.QueueCapacity, Settings.WhenFull.ToName());
    }

    public async ValueTask SubmitAsync(T item, CancellationToken cancellationToken)
    {
        var admission = await _queue.ArriveAsync(item, cancellationToken);
        if (admission.Kind == AdmissionKind.Granted)
        {
            HandOff(item);
        }
        else if (admission.Kind == AdmissionKind.Refused)
        {
            SafeRefuse(item, admission.Reason);
        }
    }

    public void Complete()
    {
        _queue.Complete();
        lock (_granted)
        {
            _stopping = true;
            Monitor.PulseAll(_granted);
        }

        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _completion.TrySetResult(); // never started: no worker will report the end
        }
    }

    public PoolState<T> Snapshot() => new(
        Kind,
        Settings,
        Load,
        [.. _workers.Select(w => w.Current)],
        _queue.Snapshot());

    public void Dispose()
    {
        Complete();
        _queue.Dispose();
    }

    private void HandOff(T item)
    {
        lock (_granted)
        {
            if (!_stopping)
            {
                _granted.Enqueue(item);
                Monitor.Pulse(_granted);
                return;
            }
        }

        // Granted in the instant the pool completed: no worker may be left to take it.
        _queue.Release();
        SafeRefuse(item, CloseReason.Shutdown);
    }

    private bool TryTake(out T item)
    {
        lock (_granted)
        {
            while (!_granted.TryDequeue(out item!))
            {
                if (_stopping)
                {
                    return false;
                }

                Monitor.Wait(_granted);
            }

            return true;
        }
    }

    private void Work(object? state)
    {
        var (worker, ready) = ((WorkerThread<T>, CountdownEvent))state!;
        ready.Signal();
        try
        {
            while (TryTake(out var item))
            {
                worker.Current = item;
                try
                {
                    _serve(item, worker.Name);
                }
#pragma warning disable CA1031 // A worker must survive whatever an item throws.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    PoolLog.ItemFaulted(_logger, ex, worker.Name, Kind.ToName());
                }
                finally
                {
                    worker.Current = null;
                    _queue.Release();
                }
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _alive) == 0)
            {
                _completion.TrySetResult();
            }
        }
    }

    private void SafeRefuse(T item, CloseReason reason) => Refusal.Deliver(_refuse, item, reason, _logger, Kind);
}
