using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EchoServer.Hosting;

/// <summary>
/// Kestrel's limits for the admin endpoint, sized for what calls it (a balancer's health checks, Prometheus, a few
/// browsers on the live view) rather than Kestrel's defaults for a public web server: a held-open or half-sent
/// request must not cost the echo path its descriptors or the process its memory.
/// </summary>
internal static class AdminLimits
{
    public static void Apply(KestrelServerLimits limits)
    {
        limits.MaxConcurrentConnections = AdminEndpoint.MaxConnections;
        limits.MaxConcurrentUpgradedConnections = 0;

        // Read-only GET and HEAD: no request has a body, and short lines and few headers are all any caller sends.
        limits.MaxRequestBodySize = 0;
        limits.MaxRequestLineSize = 4 * 1024;
        limits.MaxRequestHeadersTotalSize = 8 * 1024;
        limits.MaxRequestHeaderCount = 32;
        limits.MaxRequestBufferSize = 16 * 1024;
        limits.MaxResponseBufferSize = 64 * 1024;

        // A caller that opens a connection and sends nothing, or half a request, gives it back within seconds.
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(5);
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>Puts <see cref="AdminConnectionGate"/> around Kestrel's socket transport, and shortens its listen backlog to match.</summary>
    public static void GateAccepts(IServiceCollection services)
    {
        services.Configure<SocketTransportOptions>(o => o.Backlog = AdminEndpoint.MaxConnections);
        services.RemoveAll<IConnectionListenerFactory>();
        services.AddSingleton<IConnectionListenerFactory>(sp => new AdminConnectionGate(
            new SocketTransportFactory(sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
            AdminEndpoint.MaxConnections));
    }
}
