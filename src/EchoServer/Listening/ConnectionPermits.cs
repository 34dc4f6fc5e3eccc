namespace EchoServer.Listening;

/// <summary>
/// The <c>--max-connections</c> limit as a type of its own (Kestrel's <c>ResourceCounter</c>): the listener takes a
/// permit before each accept, and the connection's close gives it back. With none free the listener stops
/// accepting and new clients wait in the kernel backlog.
/// </summary>
#pragma warning disable CA1001 // Connections still closing after the server is disposed release into it; it holds no wait handle.
internal sealed class ConnectionPermits
#pragma warning restore CA1001
{
    private readonly SemaphoreSlim _free;

    public ConnectionPermits(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
        _free = new SemaphoreSlim(limit, limit);
    }

    /// <summary>Connections allowed open at once.</summary>
    public int Limit { get; }

    /// <summary>Takes a permit if one is free now.</summary>
    public bool TryTake() => _free.Wait(0);

    /// <summary>Waits for a permit; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public Task TakeAsync(CancellationToken cancellationToken) => _free.WaitAsync(cancellationToken);

    /// <summary>Gives back the permit of a connection that has closed (or of an accept that failed).</summary>
    public void Release() => _free.Release();
}
