using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace EchoServer.Diagnostics;

/// <summary>SIGUSR1 logs a snapshot, like a thread dump for the pool: <c>kill -USR1 &lt;pid&gt;</c>.</summary>
internal static class SnapshotSignal
{
    /// <summary>Registers <paramref name="onSignal"/> for SIGUSR1 where there is one; null elsewhere.</summary>
    public static PosixSignalRegistration? Register(Action onSignal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return null;
        }

        return PosixSignalRegistration.Create((PosixSignal)(OperatingSystem.IsMacOS() ? 30 : 10), context =>
        {
            context.Cancel = true; // the default action of SIGUSR1 would end the process
            onSignal();
        });
    }

    /// <summary>Logs a snapshot one line per log event, so that single-line log formats keep it readable.</summary>
    public static void Log(ILogger logger, string snapshot)
    {
        foreach (var line in snapshot.Split('\n'))
        {
            ServerLog.Snapshot(logger, line);
        }
    }
}
