using System.Diagnostics;
using EchoServer.Diagnostics;
using EchoServer.Echo;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Connections;

/// <summary>
/// Runs one connection's session, the same way in both pools: mark it started, run the echo loop, contain
/// whatever it throws, close it. The blocking loop (worker threads) and the asynchronous one (executor, which
/// takes a slot per burst through its gate) are the only difference.
/// </summary>
internal sealed class SessionRunner(ConnectionTracker tracker, int bufferSize, ILogger logger, SessionHooks hooks)
{
    private const string ExecutorWorker = "executor";

    private readonly string _poolName = tracker.Pool.Kind.ToName();

    /// <summary>Serves <paramref name="connection"/> on the calling worker thread, blocking until it ends.</summary>
    public void Run(ClientConnection connection, string worker)
    {
        var session = RunAsync(connection, worker, gate: null);
        Debug.Assert(session.IsCompleted, "without a gate the session never awaits");
        session.GetAwaiter().GetResult();
    }

    /// <summary>Serves <paramref name="connection"/> asynchronously, taking an executor slot through <paramref name="gate"/> per burst.</summary>
    public ValueTask RunAsync(ClientConnection connection, ISlotGate gate) => RunAsync(connection, ExecutorWorker, hooks.Gate?.Invoke(connection, gate) ?? gate);

    private async ValueTask RunAsync(ClientConnection connection, string worker, ISlotGate? gate)
    {
        tracker.OnStarted(connection, worker);
        var reason = CloseReason.Error;
        try
        {
            hooks.BeforeEcho?.Invoke(connection);
            reason = gate is null
                ? BlockingEchoLoop.Run(connection.Socket, connection.Progress, bufferSize, connection.Preread)
                : await AsyncEchoLoop.RunAsync(connection.Socket, connection.Progress, gate, bufferSize, connection.Stopping, connection.Preread);
            if (reason.IsRefusal())
            {
                tracker.Refuse(connection, reason); // the executor refused a slot for its next burst
            }
        }
#pragma warning disable CA1031 // One client's failure ends that client only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ServerLog.SessionFailed(logger, ex, connection.Id, worker, _poolName);
        }
        finally
        {
            connection.Progress.Set(SessionWait.None);
            connection.Close(reason);
        }
    }
}
