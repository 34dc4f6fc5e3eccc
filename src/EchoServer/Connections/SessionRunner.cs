using System.Diagnostics;
using EchoServer.Diagnostics;
using EchoServer.Echo;
using EchoServer.IoUring;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Connections;

/// <summary>
/// Runs one connection's session, the same way in both pools: mark it started, run the echo loop, contain
/// whatever it throws, close it. The blocking loop (worker threads) and the asynchronous one (executor, which
/// takes a slot per burst through its gate) are the only difference; each on the bare socket, or through the
/// stream a stage set (<see cref="ClientConnection.Stream"/>).
/// </summary>
internal sealed class SessionRunner(ConnectionEvents events, int bufferSize, ILogger logger, PoolKind pool, RingEngine? rings = null)
{
    private const string Executor = "executor";

    private readonly string _poolName = pool.ToName();

    /// <summary>Serves <paramref name="connection"/> on the calling worker thread, blocking until it ends.</summary>
    public void Run(ClientConnection connection, string worker)
    {
        var session = RunAsync(connection, worker, gate: null);
        Debug.Assert(session.IsCompleted, "without a gate the session never awaits");
        session.GetAwaiter().GetResult();
    }

    /// <summary>Serves <paramref name="connection"/> asynchronously, taking an executor slot through <paramref name="gate"/> per burst.</summary>
    public ValueTask RunAsync(ClientConnection connection, ISlotGate gate) => RunAsync(connection, Executor, gate);

    private async ValueTask RunAsync(ClientConnection connection, string servedBy, ISlotGate? gate)
    {
        events.Started(connection, servedBy);
        var reason = CloseReason.Error;
        try
        {
            // A stage that must see every byte (TLS, a fault plan) set a stream; everything else echoes on the bare
            // socket: the executor's on the io_uring engine when it runs, a stream's always on the runtime's sockets.
            reason = (gate, connection.Stream) switch
            {
                (null, null) => BlockingEchoLoop.Run(connection.Socket, connection.Progress, bufferSize, connection.Preread),
                (null, { } stream) => StreamEchoLoop.Run(stream, connection.Socket, connection.Progress, bufferSize, connection.Preread),
                (_, null) when rings is not null => await rings.RunAsync(connection.Id, connection.Socket, connection.Progress, gate, connection.Stopping, connection.Preread),
                (_, null) => await AsyncEchoLoop.RunAsync(connection.Socket, connection.Progress, gate, bufferSize, connection.Stopping, connection.Preread),
                (_, { } stream) => await StreamEchoLoop.RunAsync(stream, connection.Socket, connection.Progress, gate, bufferSize, connection.Stopping, connection.Preread),
            };
            if (reason.IsRefusal())
            {
                connection.Refuse(reason); // the executor refused a slot for its next burst
            }
        }
#pragma warning disable CA1031 // One client's failure ends that client only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ServerLog.SessionFailed(logger, ex, connection.Id, servedBy, _poolName);
        }
        finally
        {
            connection.Progress.Set(SessionWait.None);
            connection.Close(reason);
        }
    }
}
