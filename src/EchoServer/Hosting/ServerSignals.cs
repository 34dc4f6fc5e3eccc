using System.Runtime.InteropServices;
using EchoServer.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>
/// The signals other than SIGINT and SIGTERM (the host's lifetime, <see cref="StopSignals"/>) whose default action
/// would end the process at once, without a drain or a summary: SIGHUP reloads (<see cref="ReloadHook"/>), SIGUSR1
/// logs a snapshot, the rest are ignored with a line. Reloads and snapshots run at most once a second, and ignored
/// signals are logged at most once every ten seconds each, so a flood of them costs a few lines. Linux and macOS.
/// The handlers are in place before anything binds, so before the pid file exists.
/// </summary>
internal sealed class ServerSignals : IHostedLifecycleService, IDisposable
{
    /// <summary>Least time between two snapshots, or two reloads.</summary>
    public static readonly TimeSpan CoalesceInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan IgnoredLineInterval = TimeSpan.FromSeconds(10);

    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly CoalescedAction _reload;
    private readonly CoalescedAction _snapshot;

    private readonly ILogger _logger;

    public ServerSignals(EchoServerService server, IEnumerable<IReloadable> reloadables, ILoggerFactory loggerFactory)
    {
        var logger = _logger = loggerFactory.CreateLogger(EchoServerHost.LifecycleCategory);
        _reload = new CoalescedAction("SIGHUP reload", CoalesceInterval, new ReloadHook(reloadables, logger).Run, server.Faults);
        _snapshot = new CoalescedAction("SIGUSR1 snapshot", CoalesceInterval, requests =>
        {
            SnapshotSignal.Log(logger, server.Snapshot());
            if (requests > 1)
            {
                ServerLog.SnapshotsCoalesced(logger, requests);
            }
        }, server.Faults);
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            Register(PosixSignal.SIGHUP, _reload.Request);
            Register(Numbers.Usr1, _snapshot.Request);
            foreach (var (signal, name) in Numbers.Ignored)
            {
                var limiter = new LogRateLimiter(IgnoredLineInterval);
                Register(signal, () =>
                {
                    if (limiter.TryAcquire(out long suppressed))
                    {
                        ServerLog.SignalIgnored(_logger, name, suppressed);
                    }
                });
            }
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _reload.Dispose();
        _snapshot.Dispose();
    }

    private void Register(PosixSignal signal, Action onSignal) =>
        _registrations.Add(PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true; // the default action would end the process
            onSignal();
        }));

    /// <summary>Signal numbers the <see cref="PosixSignal"/> enumeration lacks (it takes raw ones cast to it), which differ between Linux and macOS.</summary>
    private static class Numbers
    {
        public static PosixSignal Usr1 => (PosixSignal)(OperatingSystem.IsMacOS() ? 30 : 10);

        /// <summary>
        /// Signals nobody sends an echo server on purpose, whose default ends it: a stray <c>kill -USR2</c>, a
        /// power-failure notice (SIGPWR, Linux), or the soft CPU-time and file-size limits being reached (SIGXCPU,
        /// SIGXFSZ: the hard CPU limit still kills; a write past the file-size limit fails instead).
        /// </summary>
        public static IEnumerable<(PosixSignal Signal, string Name)> Ignored => OperatingSystem.IsMacOS()
            ? [((PosixSignal)31, "SIGUSR2"), ((PosixSignal)14, "SIGALRM"), ((PosixSignal)24, "SIGXCPU"), ((PosixSignal)25, "SIGXFSZ"), ((PosixSignal)26, "SIGVTALRM"), ((PosixSignal)27, "SIGPROF")]
            : [((PosixSignal)12, "SIGUSR2"), ((PosixSignal)14, "SIGALRM"), ((PosixSignal)30, "SIGPWR"), ((PosixSignal)24, "SIGXCPU"), ((PosixSignal)25, "SIGXFSZ"), ((PosixSignal)26, "SIGVTALRM"), ((PosixSignal)27, "SIGPROF")];
    }
}
