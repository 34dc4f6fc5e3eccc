using EchoServer.Diagnostics;
using EchoServer.Echo;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>Builds the chosen pool with the echo session that runs on it.</summary>
internal static class SessionPoolFactory
{
    public static IWorkPool<ClientConnection> Create(ServerOptions options, Action<ClientConnection, PoolOutcome> refuse, ILogger logger, SessionHooks hooks)
    {
        string pool = options.PoolName;
        return options.Pool switch
        {
            PoolKind.Workers => new WorkerThreadPool<ClientConnection>(
                options.PoolSettings,
                options.BufferSize,
                (connection, worker) => Serve(connection, worker, pool, logger, hooks),
                refuse,
                logger),
            PoolKind.Executor => new BoundedExecutor<ClientConnection>(
                options.PoolSettings,
                connection => ServeAsync(connection, options.BufferSize, pool, logger, hooks),
                refuse,
                logger),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Pool, "Unknown pool."),
        };
    }

    private static void Serve(ClientConnection connection, WorkerContext worker, string pool, ILogger logger, SessionHooks hooks)
    {
        Started(connection, worker.Name, pool, logger);
        var reason = CloseReason.Error;
        try
        {
            hooks.BeforeEcho?.Invoke(connection);
            reason = BlockingEchoSession.Run(connection, worker.Buffer);
        }
#pragma warning disable CA1031 // One client's failure ends that client only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ServerLog.SessionFailed(logger, ex, connection.Id, worker.Name, pool);
        }
        finally
        {
            connection.Close(reason);
        }
    }

    private static async ValueTask ServeAsync(ClientConnection connection, int bufferSize, string pool, ILogger logger, SessionHooks hooks)
    {
        const string worker = "executor";
        Started(connection, worker, pool, logger);
        var reason = CloseReason.Error;
        try
        {
            hooks.BeforeEcho?.Invoke(connection);
            reason = await AsyncEchoSession.RunAsync(connection, bufferSize);
        }
#pragma warning disable CA1031 // One client's failure ends that client only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ServerLog.SessionFailed(logger, ex, connection.Id, worker, pool);
        }
        finally
        {
            connection.Close(reason);
        }
    }

    private static void Started(ClientConnection connection, string worker, string pool, ILogger logger)
    {
        connection.MarkStarted(worker);
        ServerLog.SessionStarted(logger, connection.Id, worker, connection.QueuedFor.TotalMilliseconds, pool);
    }
}
