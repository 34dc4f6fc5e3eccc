using EchoServer.Listening;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace EchoServer.Hosting;

/// <summary>Builds the generic host the server runs in: console logging, console lifetime, the server service.</summary>
internal static class EchoServerHost
{
    /// <summary>Connection, pool and accept events: filtered by --log-level.</summary>
    public const string ConnectionsCategory = "EchoServer";

    /// <summary>Start and stop lines ("Listening on …", the summary): logged at Information whatever --log-level says, unless None.</summary>
    public const string LifecycleCategory = "EchoServer.Lifecycle";

    /// <summary>Category names whose Information chatter would push the "Listening on" line off the top.</summary>
    private const string HostingInternals = "Microsoft.Extensions.Hosting";

    /// <summary>The host, built.</summary>
    public static IHost Create(ServerOptions options) => CreateBuilder(options).Build();

    /// <summary>The host's builder, with console logging and every service registered, for a caller to add to (another log provider, a stage) before it builds.</summary>
    public static HostApplicationBuilder CreateBuilder(ServerOptions options)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

        // Scripts read the port from the first line: a quieter --log-level must not hide it.
        builder.Logging.AddFilter(LifecycleCategory, options.LogLevel == LogLevel.None ? LogLevel.None : (LogLevel)Math.Min((int)options.LogLevel, (int)LogLevel.Information));

        // Start-up failures are reported by the program as one line; the host would add a stack trace.
        builder.Logging.AddFilter(HostingInternals, LogLevel.None);
        AddConsole(builder.Logging, options.LogFormat);

        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);

        // The service enforces the drain deadline itself; the host must not cut it short.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.DrainDelay + options.ShutdownTimeout + TimeSpan.FromSeconds(10));
        builder.Services.AddMetrics();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
        builder.Services.AddHostedService<ServiceManagerNotifier>();
        builder.Services.AddSingleton<ISocketAcceptor, SocketAcceptor>();
        builder.Services.AddSingleton<EchoServerService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EchoServerService>());
        builder.Services.AddHostedService<ServerSignals>();
        if (options.Tls is { SelfSigned: false })
        {
            builder.Services.AddSingleton<IReloadable>(sp => new CertificateReload(sp.GetRequiredService<EchoServerService>().Certificate!));
        }

        if (options.AdminPort is not null)
        {
            builder.Services.AddSingleton<AdminEndpoint>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<AdminEndpoint>());
        }

        return builder;
    }

    private static void AddConsole(ILoggingBuilder logging, LogFormat format)
    {
        // A stalled stdout (a full pipe nobody reads) must cost log lines, never the echo or the accept loop:
        // when its queue is full the console logger drops, counts, and reports the count once it can write again.
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite);
        switch (format)
        {
            case LogFormat.Json:
                logging.AddJsonConsole(o =>
                {
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                });
                break;
            case LogFormat.Systemd:
                logging.AddSystemdConsole(o => o.UseUtcTimestamp = true);
                break;
            default:
                logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                });
                break;
        }
    }
}
