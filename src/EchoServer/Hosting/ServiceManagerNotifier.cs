using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace EchoServer.Hosting;

/// <summary>
/// Tells systemd (a <c>Type=notify</c> unit, which sets NOTIFY_SOCKET) READY=1 once every service has started,
/// so after the echo listener is bound and its "Listening on" line logged, and STOPPING=1 as soon as a stop is
/// requested, before the drain. Without NOTIFY_SOCKET it does nothing. The host keeps its console lifetime,
/// which handles SIGTERM the same way under systemd or not; systemd's own lifetime would notify a second time.
/// </summary>
internal sealed class ServiceManagerNotifier(ISystemdNotifier notifier) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        Notify(ServiceState.Ready);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        Notify(ServiceState.Stopping);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Notify(ServiceState state)
    {
        if (notifier.IsEnabled)
        {
            notifier.Notify(state);
        }
    }
}
