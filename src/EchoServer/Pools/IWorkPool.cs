namespace EchoServer.Pools;

/// <summary>
/// A pool that runs submitted items with bounded concurrency and a bounded queue.
/// The listener talks only to this interface; the implementations differ in how items run.
/// </summary>
internal interface IWorkPool<T> : IDisposable
    where T : class
{
    /// <summary>Short name used in logs and metrics ("workers", "executor").</summary>
    string Name { get; }

    /// <summary>The settings the pool runs with.</summary>
    PoolSettings Settings { get; }

    /// <summary>Items waiting for a worker now.</summary>
    int QueueLength { get; }

    /// <summary>Items running now.</summary>
    int Busy { get; }

    /// <summary>Live queued items, oldest first, for snapshots.</summary>
    IEnumerable<PendingWork<T>> Queued { get; }

    /// <summary>Each dedicated worker's state (index 0 is worker 1), or null for a pool without dedicated workers.</summary>
    IReadOnlyList<WorkerContext?>? Workers { get; }

    /// <summary>Starts the workers; returns when every one is ready to take items.</summary>
    void Start();

    /// <summary>
    /// Admits <paramref name="item"/> according to the overload policy. The outer task completes once the
    /// item is admitted or refused (only <see cref="WhenFull.Wait"/> makes it wait); the inner task completes
    /// when the item ends, with how it ended, or faults with the exception its run threw.
    /// A refused item has already been handed to the pool's refuse callback.
    /// </summary>
    ValueTask<Task<PoolOutcome>> SubmitAsync(T item, CancellationToken cancellationToken);

    /// <summary>Stops admitting items and refuses those still queued; running items go on.</summary>
    void Complete();

    /// <summary>Completes when the pool is completed and every running item has ended.</summary>
    Task Completion { get; }
}
