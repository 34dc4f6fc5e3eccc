namespace EchoServer.Connections;

/// <summary>
/// The hand-offs that went on off the accept loop (a stage waiting for a client's PROXY protocol header or TLS handshake), so that
/// a stop can wait for every one to end, its connection closed or submitted to the pool, before it drains the pool.
/// </summary>
internal sealed class DetachedHandOffs
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Hand-offs under way, plus one that EndAsync gives up once the accept loop has ended: the count can reach
    // zero only when none is under way and none can start any more.
    private int _underWay = 1;
    private int _ending;

    /// <summary>Runs <paramref name="handOff"/> without waiting for it; the caller (the accept loop) goes on at once.</summary>
    public void Start<TState>(Func<TState, Task> handOff, TState state)
    {
        Interlocked.Increment(ref _underWay);
        _ = RunAsync(handOff, state);
    }

    /// <summary>Call once the accept loop has ended: completes when every detached hand-off has ended.</summary>
    public Task EndAsync()
    {
        if (Interlocked.Exchange(ref _ending, 1) == 0)
        {
            End();
        }

        return _ended.Task;
    }

    private async Task RunAsync<TState>(Func<TState, Task> handOff, TState state)
    {
        try
        {
            await handOff(state);
        }
        finally
        {
            End();
        }
    }

    private void End()
    {
        if (Interlocked.Decrement(ref _underWay) == 0)
        {
            _ended.TrySetResult();
        }
    }
}
