namespace EchoServer.Pools;

/// <summary>How an item submitted to a pool ended.</summary>
internal enum PoolOutcome
{
    /// <summary>A worker ran it to the end.</summary>
    Served,

    /// <summary>Refused on submission: workers busy and queue full.</summary>
    PoolSaturated,

    /// <summary>Refused while queued, to make room for a newer item (<see cref="WhenFull.DropOldest"/>).</summary>
    DroppedOldest,

    /// <summary>Refused after waiting in the queue longer than the queue timeout.</summary>
    QueueTimeout,

    /// <summary>Refused because the pool was completed before a worker took it.</summary>
    Shutdown,
}
