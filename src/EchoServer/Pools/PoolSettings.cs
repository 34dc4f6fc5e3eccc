namespace EchoServer.Pools;

/// <summary>Sizing and overload behaviour shared by every pool.</summary>
internal sealed record PoolSettings
{
    /// <summary>How many items run at once. Defaults to 128.</summary>
    public int Workers { get; init; } = 128;

    /// <summary>How many items may wait for a worker. Defaults to 1024.</summary>
    public int QueueCapacity { get; init; } = 1024;

    /// <summary>What happens when workers are busy and the queue is full. Defaults to reject.</summary>
    public WhenFull WhenFull { get; init; } = WhenFull.Reject;

    /// <summary>Longest wait in the queue before the item is refused; zero means no limit.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>Throws when a value cannot work.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Workers, 1, nameof(Workers));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueTimeout, TimeSpan.Zero, nameof(QueueTimeout));
    }
}
