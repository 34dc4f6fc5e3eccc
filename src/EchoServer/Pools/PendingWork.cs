using System.Diagnostics;

namespace EchoServer.Pools;

/// <summary>One submitted item and the promise of how it ends.</summary>
internal sealed class PendingWork<T>
    where T : class
{
    private const int Queued = 0;
    private const int Claimed = 1;

    private readonly TaskCompletionSource<PoolOutcome> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public PendingWork(T item)
    {
        Item = item;
    }

    public T Item { get; }

    /// <summary>Stopwatch timestamp of the moment it entered the queue; queue timeouts count from it.</summary>
    public long EnqueuedAt { get; private set; }

    public Task<PoolOutcome> Completion => _done.Task;

    /// <summary>
    /// Claims the item for exactly one party: a worker that runs it, or whoever refuses it (timeout,
    /// drop-oldest, shutdown). Entries that lost the race stay in the queue as husks and are skipped.
    /// </summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Queued) == Queued;

    public bool IsClaimed => Volatile.Read(ref _state) == Claimed;

    public void MarkEnqueued() => EnqueuedAt = Stopwatch.GetTimestamp();

    public TimeSpan WaitedFor(long now) => Stopwatch.GetElapsedTime(EnqueuedAt, now);

    public void SetOutcome(PoolOutcome outcome) => _done.TrySetResult(outcome);

    public void SetFault(Exception exception) => _done.TrySetException(exception);
}
