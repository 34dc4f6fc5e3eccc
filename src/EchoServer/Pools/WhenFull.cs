namespace EchoServer.Pools;

/// <summary>What a pool does with a new item when every worker is busy and the queue is full.</summary>
internal enum WhenFull
{
    /// <summary>Refuse the new item at once.</summary>
    Reject,

    /// <summary>Make the submitter wait until the queue has room (backpressure).</summary>
    Wait,

    /// <summary>Refuse the item that has waited longest and queue the new one.</summary>
    DropOldest,
}
