namespace EchoServer.Pools;

/// <summary>
/// A pool that runs submitted items with bounded concurrency and a bounded FIFO queue. Every item not served
/// is handed to the refuse callback the pool was built with, exactly once, with the reason.
/// </summary>
internal interface IWorkPool<T> : IDisposable
    where T : class
{
    /// <summary>Which pool this is.</summary>
    PoolKind Kind { get; }

    /// <summary>The settings the pool runs with.</summary>
    PoolSettings Settings { get; }

    /// <summary>Items holding a slot and items waiting for one, now (cheap: for gauges and readiness).</summary>
    PoolLoad Load { get; }

    /// <summary>Completes when the pool is completed and every admitted item has ended.</summary>
    Task Completion { get; }

    /// <summary>Starts the workers; returns when every one is ready to take items.</summary>
    void Start();

    /// <summary>
    /// Admits <paramref name="item"/> under the overload policy. Completes once the item is admitted or refused;
    /// only <see cref="WhenFull.Wait"/> in the worker pool makes the caller wait for room.
    /// </summary>
    ValueTask SubmitAsync(T item, CancellationToken cancellationToken);

    /// <summary>Stops admitting items; what each pool does with what it holds is stated by the pool.</summary>
    void Complete();

    /// <summary>What the pool holds now, for snapshots.</summary>
    PoolState<T> Snapshot();
}

/// <summary>Slots held and items waiting, at one moment.</summary>
internal readonly record struct PoolLoad(int Busy, int Queued);

/// <summary>
/// A pool at one moment: its load, the item each dedicated worker serves (null entries for idle workers; the
/// list itself is null for a pool without dedicated workers), and the queue, oldest first.
/// </summary>
internal sealed record PoolState<T>(PoolKind Kind, PoolSettings Settings, PoolLoad Load, IReadOnlyList<T?>? Workers, IReadOnlyList<(T Item, TimeSpan Waited)> Queue)
    where T : class;
