using EchoServer.Connections;
using EchoServer.Diagnostics;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>
/// The end of a stop, once the listener is closed: the pool takes no new work, open sessions get the shutdown
/// timeout to finish, then they are stopped politely (their echo delivered, then a FIN), and what still hangs
/// after a grace period is reset.
/// </summary>
internal static class SessionDrain
{
    /// <summary>How long each later step waits before the next.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(IWorkPool<ClientConnection> pool, ConnectionRegistry connections, TimeSpan shutdownTimeout, ILogger lifecycle, CancellationToken cancellationToken)
    {
        string name = pool.Kind.ToName();
        // The worker pool closes its queued clients, never served; the executor's queued sessions go on and drain.
        int queued = pool.Kind == PoolKind.Workers ? pool.Load.Queued : 0;
        ServerLog.Draining(lifecycle, queued, Math.Max(connections.Count - queued, 0), shutdownTimeout.TotalSeconds, name);
        pool.Complete();
        if (await pool.Completion.CompletesWithinAsync(shutdownTimeout, cancellationToken))
        {
            return;
        }

        ServerLog.DrainDeadline(lifecycle, connections.Count, name);
        connections.StopAll(CloseReason.Shutdown);
        if (await pool.Completion.CompletesWithinAsync(Grace, CancellationToken.None))
        {
            return;
        }

        ServerLog.SessionsStuck(lifecycle, connections.Count, name);
        connections.AbortAll(CloseReason.Shutdown);
        await pool.Completion.CompletesWithinAsync(Grace, CancellationToken.None);
    }
}
