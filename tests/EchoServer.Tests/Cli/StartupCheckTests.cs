using EchoServer.Connections;
using EchoServer.Hosting;

namespace EchoServer.Tests.Cli;

/// <summary>The worker-thread check against given limits, whatever the machine running the tests allows.</summary>
public sealed class StartupCheckTests
{
    private static readonly ThreadLimits Roomy = new(MaxMapCount: 1_000_000, ThreadsMax: 1_000_000, ThreadsRunning: 500, ProcessLimit: null);

    [Fact]
    public void Workers_within_every_limit_pass() => Assert.Null(StartupChecks.WorkerThreadsError(10_000, Roomy));

    [Fact]
    public void The_memory_map_limit_is_named_with_what_it_allows() =>
        Assert.Equal(
            "--workers 20000 needs 20000 threads but vm.max_map_count 65530 (each thread takes 4 memory maps) allows about 16126; lower --workers, raise that limit, or use --pool executor (no thread per worker).",
            StartupChecks.WorkerThreadsError(20_000, Roomy with { MaxMapCount = 65_530 }));

    [Fact]
    public void The_system_thread_limit_counts_the_threads_already_running() =>
        Assert.Equal(
            "--workers 5000 needs 5000 threads but kernel.threads-max 6000 (1500 threads running) allows about 4468; lower --workers, raise that limit, or use --pool executor (no thread per worker).",
            StartupChecks.WorkerThreadsError(5_000, Roomy with { ThreadsMax = 6_000, ThreadsRunning = 1_500 }));

    [Fact]
    public void The_process_limit_is_named() =>
        Assert.Equal(
            "--workers 5000 needs 5000 threads but the process limit (ulimit -u) 4096 allows about 4064; lower --workers, raise that limit, or use --pool executor (no thread per worker).",
            StartupChecks.WorkerThreadsError(5_000, Roomy with { ProcessLimit = 4_096 }));

    [Fact]
    public void Unknown_limits_refuse_nothing() =>
        Assert.Null(StartupChecks.WorkerThreadsError(100_000, new ThreadLimits(null, null, null, null)));

    [Fact]
    public void Trusted_proxies_without_the_proxy_protocol_are_warned_about()
    {
        const string Warning = "--trusted-proxies has no effect without --proxy-protocol.";
        Assert.True(TrustedProxies.TryParse("10.0.0.0/8", out var trusted, out _));
        var options = new ServerOptions { MaxConnections = 100, TrustedProxies = trusted! };

        Assert.Contains(Warning, StartupChecks.Run(options).Warnings);
        Assert.DoesNotContain(Warning, StartupChecks.Run(options with { ProxyProtocol = ProxyProtocolMode.Required }).Warnings);
        Assert.DoesNotContain(Warning, StartupChecks.Run(new ServerOptions { MaxConnections = 100 }).Warnings);
    }
}
