using System.Net;
using EchoServer.Connections;
using EchoServer.Hosting;
using EchoServer.Pools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EchoServer.TestSupport;

/// <summary>An in-process server on 127.0.0.1 with an ephemeral port and captured logs.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private TestServer(IHost host, TestLoggerProvider logs, TestStage stage)
    {
        _host = host;
        Logs = logs;
        Stage = stage;
        Service = host.Services.GetRequiredService<EchoServerService>();
    }

    public TestLoggerProvider Logs { get; }

    /// <summary>The last connection stage before the pool, through which a test reaches each new connection.</summary>
    public TestStage Stage { get; }

    public EchoServerService Service { get; }

    public IPEndPoint EndPoint => Service.LocalEndPoint;

    public IServiceProvider Services => _host.Services;

    /// <param name="pool">The pool.</param>
    /// <param name="configure">Changes to the default test options.</param>
    /// <param name="services">Services to add to the host's (a fake <c>ISocketAcceptor</c>, a connection stage).</param>
    public static Task<TestServer> StartAsync(PoolKind pool, Func<ServerOptions, ServerOptions>? configure = null, Action<IServiceCollection>? services = null) =>
        StartAsync((configure ?? (o => o))(new ServerOptions { Pool = pool, Port = 0, LogLevel = LogLevel.Debug }), services);

    public static async Task<TestServer> StartAsync(ServerOptions options, Action<IServiceCollection>? services = null)
    {
        var logs = new TestLoggerProvider();
        var builder = EchoServerHost.CreateBuilder(TestEngine.Apply(options));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        services?.Invoke(builder.Services);
        var stage = new TestStage();
        builder.Services.AddSingleton<IConnectionStage>(stage);
        var host = builder.Build();
        await host.StartAsync();
        return new TestServer(host, logs, stage);
    }

    public static PoolSettings Pool(int workers, int queue, WhenFull whenFull = WhenFull.Reject, TimeSpan? queueTimeout = null) =>
        new() { Workers = workers, QueueCapacity = queue, WhenFull = whenFull, QueueTimeout = queueTimeout ?? TimeSpan.Zero };

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}
