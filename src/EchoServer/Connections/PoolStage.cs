using EchoServer.Diagnostics;
using EchoServer.Pools;

namespace EchoServer.Connections;

/// <summary>The last step of the hand-off: submits the connection to the pool, which serves it or refuses it.</summary>
internal sealed class PoolStage(IWorkPool<ClientConnection> pool, ConnectionEvents events)
{
    /// <summary>Submits <paramref name="connection"/>; with <c>--when-full wait</c> in the worker pool, waits for room.</summary>
    public async ValueTask SubmitAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        await pool.SubmitAsync(connection, cancellationToken);
        events.Admitted(connection);
    }
}
