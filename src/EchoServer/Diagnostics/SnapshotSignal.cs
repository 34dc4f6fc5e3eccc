using Microsoft.Extensions.Logging;

namespace EchoServer.Diagnostics;

/// <summary>SIGUSR1 logs a snapshot, like a thread dump for the pool: <c>kill -USR1 &lt;pid&gt;</c> (registered by <c>Hosting/ServerSignals</c>).</summary>
internal static class SnapshotSignal
{
    /// <summary>Logs a snapshot one line per log event, so that single-line log formats keep it readable.</summary>
    public static void Log(ILogger logger, string snapshot)
    {
        foreach (var line in snapshot.Split('\n'))
        {
            ServerLog.Snapshot(logger, line);
        }
    }
}
