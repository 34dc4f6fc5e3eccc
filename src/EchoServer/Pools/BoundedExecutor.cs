using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;

namespace EchoServer.Pools;

/// <summary>
/// A bounded executor that bounds work, not items: every submitted item (a client) runs as an asynchronous
/// session on the .NET thread pool and holds nothing while it waits; whenever it has work (data to echo) it
/// takes one of <c>Workers</c> slots through its <see cref="ISlotGate"/>, FIFO with every other session, does a
/// bounded amount of work, and gives the slot back. So <c>Workers</c> is "work running at once", and idle
/// items cost only their own memory. The overload policy applies to a session's first request only: once
/// served, its later bursts rejoin the queue and wait their turn (backpressure: the session is not read
/// meanwhile), bounded only by the queue timeout. <see cref="Complete"/> refuses new items; sessions already
/// running go on (and keep taking slots) until they end.
/// </summary>
internal sealed class BoundedExecutor<T> : IWorkPool<T>
    where T : class
{
    private readonly Func<T, ISlotGate, ValueTask> _serve;
    private readonly Action<T, CloseReason> _refuse;
    private readonly ILogger _logger;
    private readonly AdmissionQueue<Session> _queue;
    private readonly Action<Session> _runOnThreadPool;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sessions;
    private int _completed;

    /// <param name="settings">Slots, queue and overload policy.</param>
    /// <param name="serve">Runs one item's whole session; it takes a slot through the gate for each piece of work.</param>
    /// <param name="refuse">Called once for each item refused before its session starts (the session reports its own end).</param>
    /// <param name="logger">Where faults are logged.</param>
    /// <param name="slotWaited">Called for every slot granted (every burst, not only a session's first) with how long it waited.</param>
    public BoundedExecutor(PoolSettings settings, Func<T, ISlotGate, ValueTask> serve, Action<T, CloseReason> refuse, ILogger logger, Action<TimeSpan>? slotWaited = null)
    {
        settings.Validate();
        Settings = settings;
        _serve = serve;
        _refuse = refuse;
        _logger = logger;
        _queue = new AdmissionQueue<Session>(settings.Workers, settings, static s => s.Answer(null), static (s, reason) => s.Answer(reason), slotWaited);
        _runOnThreadPool = session => _ = RunAsync(session);
    }

    public PoolKind Kind => PoolKind.Executor;

    public PoolSettings Settings { get; }

    public PoolLoad Load => new(_queue.Busy, _queue.Waiting);

    public Task Completion => _completion.Task;

    public void Start() => PoolLog.Started(_logger, Kind.ToName(), Settings.Workers, Settings.QueueCapacity, Settings.WhenFull.ToName());

    public ValueTask SubmitAsync(T item, CancellationToken cancellationToken)
    {
        // Counted before the completed flag is read, and Complete sets the flag before it reads the count:
        // whichever runs second sees the other, so no session starts unseen after completion.
        Interlocked.Increment(ref _sessions);
        if (Volatile.Read(ref _completed) != 0)
        {
            EndSession();
            Refusal.Deliver(_refuse, item, CloseReason.Shutdown, _logger, Kind);
            return ValueTask.CompletedTask;
        }

        // The submitter is the accept loop: never run a session's first synchronous part on it.
        ThreadPool.UnsafeQueueUserWorkItem(_runOnThreadPool, new Session(this, item), preferLocal: false);
        return ValueTask.CompletedTask;
    }

    public void Complete()
    {
        Interlocked.Exchange(ref _completed, 1);
        if (Volatile.Read(ref _sessions) == 0)
        {
            _completion.TrySetResult();
        }
    }

    public PoolState<T> Snapshot() => new(Kind, Settings, Load, null, [.. _queue.Snapshot().Select(w => (w.Item.Item, w.Waited))]);

    public void Dispose()
    {
        Complete();
        _queue.Dispose();
    }

    private async Task RunAsync(Session session)
    {
        try
        {
            await _serve(session.Item, session);
        }
#pragma warning disable CA1031 // A faulting session must free its slot and leave the executor running.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            PoolLog.ItemFaulted(_logger, ex, Kind.ToName(), Kind.ToName());
        }
        finally
        {
            session.Exit();
            EndSession();
        }
    }

    private void EndSession()
    {
        if (Interlocked.Decrement(ref _sessions) == 0 && Volatile.Read(ref _completed) != 0)
        {
            _completion.TrySetResult();
        }
    }

    /// <summary>One item's session: its gate to the slots, and the reusable promise a queued wait completes.</summary>
    private sealed class Session(BoundedExecutor<T> executor, T item) : ISlotGate, IValueTaskSource<CloseReason?>
    {
        private ManualResetValueTaskSourceCore<CloseReason?> _answer = new() { RunContinuationsAsynchronously = true };
        private AdmissionQueue<Session>.Ticket? _queued;
        private bool _holdsSlot;
        private bool _served;

        public T Item { get; } = item;

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<CloseReason?> EnterAsync(CancellationToken cancellationToken)
        {
            if (_holdsSlot)
            {
                return null;
            }

            // Reset before arriving: once queued, a grant may answer from another thread at any moment.
            _answer.Reset();

            // Served once, the session is no newcomer: its next burst waits its turn whatever the queue holds.
            var admission = _served ? executor._queue.Rejoin(this, cancellationToken) : await executor._queue.ArriveAsync(this, cancellationToken);
            CloseReason? refusal = admission.Kind switch
            {
                AdmissionKind.Granted => null,
                AdmissionKind.Refused => admission.Reason,
                _ => await WaitForAnswerAsync(admission.Ticket!, cancellationToken),
            };

            _holdsSlot = refusal is null;
            _served |= _holdsSlot;
            return refusal;
        }

        public void Exit()
        {
            if (_holdsSlot)
            {
                _holdsSlot = false;
                executor._queue.Release();
            }
        }

        public void Answer(CloseReason? refusal) => _answer.SetResult(refusal);

        CloseReason? IValueTaskSource<CloseReason?>.GetResult(short token) => _answer.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<CloseReason?>.GetStatus(short token) => _answer.GetStatus(token);

        void IValueTaskSource<CloseReason?>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _answer.OnCompleted(continuation, state, token, flags);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<CloseReason?> WaitForAnswerAsync(AdmissionQueue<Session>.Ticket ticket, CancellationToken cancellationToken)
        {
            _queued = ticket;
            using (cancellationToken.UnsafeRegister(static s => ((Session)s!).Withdraw(), this))
            {
                return await new ValueTask<CloseReason?>(this, _answer.Version);
            }
        }

        // Aborted while queued: leave the queue unless a grant or refusal got there first (it answers then).
        private void Withdraw()
        {
            if (_queued is { } ticket && executor._queue.TryWithdraw(ticket))
            {
                Answer(CloseReason.Shutdown);
            }
        }
    }
}
