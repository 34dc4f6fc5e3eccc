using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Listening;

/// <summary>The line that starts the drain counts queued clients and active sessions apart.</summary>
public sealed class DrainLineTests
{
    [Fact]
    public async Task The_worker_pool_s_drain_line_does_not_count_queued_clients_as_active_sessions()
    {
        var server = await TestServer.StartAsync(PoolKind.Workers, o => o with { PoolSettings = TestServer.Pool(1, 10), ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using var _ = server;
        using var served = await EchoClient.ConnectAsync(server.EndPoint);
        await served.RoundTripAsync([1]); // holds the only worker
        using var first = await EchoClient.ConnectAsync(server.EndPoint);
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Pool.Load.Queued == 2, "two clients queued behind the busy worker");

        await server.StopAsync();

        var line = Assert.Single(server.Logs.Named("Draining")).Message;
        Assert.Contains("queued clients never served, closed: 2; active sessions draining: 1,", line, StringComparison.Ordinal);
        Assert.True(await first.IsClosedByServerAsync(), "a queued client was left open");
    }

    [Fact]
    public async Task The_executor_s_drain_line_counts_its_open_sessions_as_active()
    {
        var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using var _ = server;
        using var a = await EchoClient.ConnectAsync(server.EndPoint);
        using var b = await EchoClient.ConnectAsync(server.EndPoint);
        await a.RoundTripAsync([1]);
        await b.RoundTripAsync([2]);

        await server.StopAsync();

        Assert.Contains("queued clients never served, closed: 0; active sessions draining: 2,", Assert.Single(server.Logs.Named("Draining")).Message, StringComparison.Ordinal);
    }
}
