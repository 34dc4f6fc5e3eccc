using System.Net;
using System.Reflection;
using EchoServer.Diagnostics;
using EchoServer.Listening;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EchoServer.Hosting;

/// <summary>
/// The optional admin endpoint: plain HTTP on Kestrel, bound to --admin-host (127.0.0.1 unless a balancer on
/// another host needs its health checks; it serves no secrets, but belongs on a private interface). HTTP (rather than a raw text
/// protocol) because the things that call it, load balancers' health checks and Prometheus, speak HTTP; and
/// Kestrel because it is the framework's own hardened server, with OpenTelemetry's Prometheus exporter made
/// for it. It binds before anything is announced (a taken port fails start-up quietly), logs its line after the
/// echo service's "Listening on", and stops only once every service has stopped, so that it reports the drain
/// while the echo service drains. Its own connection limit, timeouts and request limits keep what a flood of
/// HTTP connections can take (descriptors, memory) out of what <c>--max-connections</c> was promised. <c>GET /</c> is the live
/// view, a page that draws <c>/snapshot.json</c> twice a second.
/// </summary>
internal sealed class AdminEndpoint(ServerOptions options, EchoServerService server, ILoggerFactory loggerFactory) : IHostedLifecycleService, IAsyncDisposable
{
    private const string AllowedMethods = "GET, HEAD";

    /// <summary>The <c>service.name</c> resource attribute: the executable's name.</summary>
    private const string ServiceName = "echo-server";

    private static readonly string[] ReadMethods = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>The <c>service.version</c> resource attribute: the build's informational version.</summary>
    private static readonly string ServiceVersion =
        typeof(AdminEndpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Connections the admin endpoint holds at once; a further one is accepted and closed at once. Counted in the descriptor budget (<see cref="StartupChecks.AdminDescriptors"/>).</summary>
    public const int MaxConnections = 64;

    private WebApplication? _app;
    private LiveHistory? _history;

    /// <summary>The bound port (the real one when 0 was asked for).</summary>
    public int Port { get; private set; }

    /// <summary>Binds and starts serving, before any service announces anything.</summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.AdminHost, options.AdminPort ?? 0, listen => listen.Protocols = HttpProtocols.Http1);
            AdminLimits.Apply(k.Limits);
        });
        AdminLimits.GateAccepts(builder.Services);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceVersion: ServiceVersion))
            .WithMetrics(metrics => metrics
                .AddMeter(ServerMetrics.MeterName)

                // The runtime's own numbers (GC, thread pool queue and threads, lock contention, working set) next
                // to ours: a long queue wait or a slow echo reads differently when the .NET thread pool is starved.
                .AddRuntimeMetrics()
                .AddPrometheusExporter());

        var app = builder.Build();

        // Read-only: anything but GET and HEAD, on any path, is refused rather than answered as a GET.
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                context.Response.Headers.Allow = AllowedMethods;
                return;
            }

            await next(context);
        });
        // RequestDelegate handlers, not parameter-bound lambdas: no reflection, so the same code runs under Native AOT.
        app.MapMethods("/healthz", ReadMethods, context => (server.IsDraining
            ? Results.Text("draining\n", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ok\n")).ExecuteAsync(context));
        app.MapMethods("/ready", ReadMethods, context => (server.IsDraining
            ? Results.Text("draining\n", statusCode: StatusCodes.Status503ServiceUnavailable)
            : server.IsSaturated
                ? Results.Text("saturated\n", statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Text("ready\n")).ExecuteAsync(context));
        app.MapMethods("/snapshot", ReadMethods, context => Results.Text(server.Snapshot() + "\n").ExecuteAsync(context));

        // The live view: a page that polls /snapshot.json (see src/README.md, "Live view").
        _history = new LiveHistory(server.Counters, server.Metrics.TrackQueueWaits(), () => server.Bytes.SoFar().Sent, () => server.Uptime, server.Faults);
        var history = _history;
        app.MapMethods("/snapshot.json", ReadMethods, context =>
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Json(server.CaptureSnapshot(history.Samples()), SnapshotJsonContext.Default.SnapshotData).ExecuteAsync(context);
        });
        foreach (string path in LiveViewPage.Paths)
        {
            app.MapMethods(path, ReadMethods, LiveViewPage.Serve);
        }

        app.MapPrometheusScrapingEndpoint();

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            // Kestrel wraps a port in use in a long message (an address this host lacks comes bare); the user needs the address and the reason.
            await app.DisposeAsync();
            int port = options.AdminPort ?? 0;
            string holder = port != 0 && port == options.Port ? $" (the echo listener holds it: --port {port})" : string.Empty;
            string where = EndPoints.Format(new IPEndPoint(options.AdminHost, port));
            throw new ListenException($"cannot listen on {where} (--admin-port): {ex.GetBaseException().Message}{holder}", ex);
        }

        _app = app;
        Port = new Uri(app.Urls.First()).Port;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ServerLog.AdminListening(loggerFactory.CreateLogger(EchoServerHost.LifecycleCategory), EndPoints.Format(new IPEndPoint(options.AdminHost, Port)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _history?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
