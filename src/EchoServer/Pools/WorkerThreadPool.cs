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

    // Granted items no parked worker was waiting for: a worker that finishes its client takes from here before
    // it parks. It never holds more than the busy workers will take, so it needs no bound of its own.
    private readonly Queue<T> _granted = new();

    // Workers waiting for a grant, the most recently parked on top: a grant goes to the one that parked last,
    // which is often still spinning (no sleep, no wake-up) or has a warm cache, not to the one asleep longest.
    private readonly Stack<Seat> _idle = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;
    private int _alive;
    private int _started;
    private int _batchRefused;

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
        if (_batchRefused > 0)
        {
            PoolLog.BatchPolicyRefused(_logger, _batchRefused, _threads.Length);
        }

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
            while (_idle.TryPop(out var seat))
            {
                seat.Give(null);
            }
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
        bool accepted;
        Seat? seat = null;
        lock (_granted)
        {
            accepted = !_stopping;
            if (accepted && !_idle.TryPop(out seat))
            {
                _granted.Enqueue(item);
            }
        }

        if (seat is not null)
        {
            seat.Give(item);
        }
        else if (!accepted)
        {
            // Granted in the instant the pool completed: no worker may be left to take it.
            _queue.Release();
            SafeRefuse(item, CloseReason.Shutdown);
        }
    }

    private bool TryTake(Seat seat, out T item)
    {
        lock (_granted)
        {
            if (_granted.TryDequeue(out item!))
            {
                return true;
            }

            if (_stopping)
            {
                return false;
            }

            _idle.Push(seat);
        }

        item = seat.Take()!;
        return item is not null; // null: the pool completed while this worker was parked
    }

    private void Work(object? state)
    {
        var (worker, ready) = ((WorkerThread<T>, CountdownEvent))state!;
        var seat = new Seat();
        if (OperatingSystem.IsLinux() && !WorkerScheduling.TryUseBatchPolicy())
        {
            Interlocked.Increment(ref _batchRefused);
        }

        ready.Signal();
        try
        {
            while (TryTake(seat, out var item))
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

    /// <summary>Where one parked worker waits for its next item: a bounded spin, then a monitor wait.</summary>
    private sealed class Seat
    {
        // As long as SemaphoreSlim spins before it blocks: long enough for a connect-echo-close client's next
        // connection to reach the worker that just finished the last one, without a sleep and a wake-up.
        private const int SpinsBeforeWait = 35;

        private readonly object _gate = new();
        private T? _item;
        private bool _given;

        /// <summary>Hands <paramref name="item"/> (null: stop) to the worker parked on this seat.</summary>
        public void Give(T? item)
        {
            lock (_gate)
            {
                _item = item;
                Volatile.Write(ref _given, true);
                Monitor.Pulse(_gate);
            }
        }

        /// <summary>Waits for the next <see cref="Give"/>.</summary>
        public T? Take()
        {
            var spinner = default(SpinWait);
            for (int i = 0; i < SpinsBeforeWait && !Volatile.Read(ref _given); i++)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            lock (_gate)
            {
                while (!_given)
                {
                    Monitor.Wait(_gate);
                }

                _given = false;
                var item = _item;
                _item = null;
                return item;
            }
        }
    }
}
