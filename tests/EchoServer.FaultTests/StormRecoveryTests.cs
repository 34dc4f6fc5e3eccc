using System.Net.Sockets;
using EchoServer.TestSupport;

namespace EchoServer.FaultTests;

/// <summary>After any storm the books balance: no connection, slot or address count is left behind.</summary>
public sealed class StormRecoveryTests
{
    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task After_echo_reset_refusal_and_timeout_storms_every_counter_is_back_to_idle_within_two_seconds(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with
        {
            PoolSettings = TestServer.Pool(64, 64),
            IdleTimeout = TimeSpan.FromSeconds(3), // long enough that a client starved of CPU between connect and send is not "idle" on a busy 2-core machine
            MaxConnectionsPerIp = 150,
            MaxConnections = 500,
        });

        // 100 parallel connect/echo/close, ten times over; each round starts once the last one is closed.
        for (int round = 0; round < 10; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
            {
                using var client = await EchoClient.ConnectAsync(server.EndPoint);
                await client.RoundTripAsync([(byte)i, 1, 2, 3]);
            }));
            await Eventually.True(() => server.Service.Counters.Active == 0 && server.Service.Pool.Load.Busy == 0, $"round {round} to close and free its workers");
        }

        // Resets mid-echo.
        await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            using var client = await EchoClient.ConnectAsync(server.EndPoint);
            await client.Socket.SendAsync(new byte[8192], SocketFlags.None);
            client.Reset();
        }));

        // Refusals (pool saturated and per-address limit) while 150 silent clients hold everything, then idle timeouts.
        var silent = await Task.WhenAll(Enumerable.Range(0, 150).Select(_ => EchoClient.ConnectAsync(server.EndPoint)));
        var refused = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => EchoClient.ConnectAsync(server.EndPoint)));
        foreach (var client in refused)
        {
            Assert.True(await client.IsClosedByServerAsync(), "refused while the pool and the address are full");
            client.Dispose();
        }

        foreach (var client in silent)
        {
            await client.IsClosedByServerAsync(TimeSpan.FromSeconds(10)); // idle timeout, or refused earlier
            client.Dispose();
        }

        await Eventually.True(
            () => server.Service.Counters.Active == 0 && server.Service.Connections.Count == 0
                && server.Service.Pool.Load.Busy == 0 && server.Service.Pool.Load.Queued == 0,
            "active connections (each close gives its permit back with it), registry, busy slots and queue back to idle",
            TimeSpan.FromSeconds(2));
        var counters = server.Service.Counters;
        Assert.Equal(counters.Accepted, counters.Served + counters.Refused);
        Assert.True(counters.Refused >= 50, $"only {counters.Refused} refusals");
        Assert.Contains(server.Logs.Named("ConnectionClosed"), e => e.Message.Contains("reason=idle-timeout", StringComparison.Ordinal));

        using var after = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([42], await after.RoundTripAsync([42]));
    }
}
