using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoServer.Connections;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.Listening;

/// <summary>--proxy-protocol over loopback, the same suite for both pools: what is echoed, which address is used, and how a bad header ends.</summary>
public sealed class ProxyProtocolTests
{
    private static readonly IPEndPoint Client = IPEndPoint.Parse("203.0.113.7:40001");
    private static readonly IPEndPoint Frontend = IPEndPoint.Parse("192.0.2.1:7007");

    public static TheoryData<string> Pools => new() { "workers", "executor" };

    public static TheoryData<string, int> PoolsAndVersions => new() { { "workers", 1 }, { "workers", 2 }, { "executor", 1 }, { "executor", 2 } };

    public static TheoryData<string, int, int> PoolsVersionsAndBufferSizes
    {
        get
        {
            var data = new TheoryData<string, int, int>();
            foreach (string pool in new[] { "workers", "executor" })
            {
                foreach (int version in new[] { 1, 2 })
                {
                    foreach (int bufferSize in new[] { 16 * 1024, 7 })
                    {
                        data.Add(pool, version, bufferSize);
                    }
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(PoolsAndVersions))]
    public async Task Data_after_the_header_is_echoed_without_it_and_the_header_address_is_the_one_logged_and_shown(string pool, int version)
    {
        await using var server = await StartAsync(pool);
        using var client = await EchoClient.ConnectAsync(server.EndPoint);

        await client.Socket.SendAsync(Header(version, Client), SocketFlags.None);
        Assert.Equal("hello"u8.ToArray(), await client.RoundTripAsync("hello"u8.ToArray()));

        var accepted = Assert.Single(server.Logs.Named("ConnectionAccepted"));
        Assert.Contains("accepted from 203.0.113.7:40001", accepted.Message, StringComparison.Ordinal);
        Assert.Equal(Client, Assert.Single(server.Service.Connections.Snapshot()).RemoteEndPoint);
        if (pool == "workers")
        {
            Assert.Contains("serving #1 203.0.113.7:40001", server.Service.Snapshot(), StringComparison.Ordinal);
        }

        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.Empty(await client.ReadToEndAsync());
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=client-closed", StringComparison.Ordinal) && e.Message.Contains("in=5 B, out=5 B", StringComparison.Ordinal)), "the close line, with the data's bytes only");
    }

    [Theory]
    [MemberData(nameof(PoolsVersionsAndBufferSizes))]
    public async Task Data_sent_in_the_same_packet_as_the_header_is_echoed_byte_exact(string pool, int version, int bufferSize)
    {
        await using var server = await StartAsync(pool, o => o with { BufferSize = bufferSize });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var payload = new byte[300];
        new Random(version * bufferSize).NextBytes(payload);

        await client.Socket.SendAsync((byte[])[.. Header(version, Client), .. payload], SocketFlags.None);
        client.Socket.Shutdown(SocketShutdown.Send);
        var echoed = await client.ReadToEndAsync();

        Assert.Equal(payload, echoed);
        await Eventually.True(() => server.Service.Counters.Served == 1, "the session to end");
        Assert.Equal(300, server.Service.Counters.BytesIn);
        Assert.Equal(300, server.Service.Counters.BytesOut);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_local_or_unknown_header_keeps_the_connections_own_address(string pool)
    {
        await using var server = await StartAsync(pool);
        foreach (var header in new[] { ProxyHeaders.V2Local(), ProxyHeaders.V1("PROXY UNKNOWN\r\n") })
        {
            using var client = await EchoClient.ConnectAsync(server.EndPoint);
            await client.Socket.SendAsync(header, SocketFlags.None);
            Assert.Equal([42], await client.RoundTripAsync([42]));
            string own = $"accepted from {client.Socket.LocalEndPoint} ";
            await Eventually.True(() => server.Logs.Named("ConnectionAccepted").Any(e => e.Message.Contains(own, StringComparison.Ordinal)), own);
        }
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_header_that_does_not_come_in_time_closes_the_connection_and_holds_no_worker_meanwhile(string pool)
    {
        var timeout = ProxyHeaderStage.Deadline;
        await using var server = await StartAsync(pool, o => o with { PoolSettings = TestServer.Pool(1, 1) });
        var connectedAt = Stopwatch.GetTimestamp();
        using var slow = await EchoClient.ConnectAsync(server.EndPoint);
        await slow.Socket.SendAsync("PROXY TCP4 "u8.ToArray(), SocketFlags.None);

        // The only worker (or executor slot) is free for a client whose header is whole.
        using var other = await EchoClient.ConnectAsync(server.EndPoint);
        await other.Socket.SendAsync(Header(2, Client), SocketFlags.None);
        Assert.Equal([1, 2, 3], await other.RoundTripAsync([1, 2, 3]));
        Assert.Empty(server.Logs.Named("RefusedWithProblem")); // served while the slow one still waited

        Assert.True(await slow.IsClosedByServerAsync(), "the slow client is closed without an echo");
        Assert.True(Stopwatch.GetElapsedTime(connectedAt) >= timeout, "not before its deadline");
        var rejected = Assert.Single(server.Logs.Named("RefusedWithProblem"));
        Assert.Equal(LogLevel.Warning, rejected.Level);
        Assert.Contains("refused: proxy-header, no complete header within 3 s", rejected.Message, StringComparison.Ordinal);
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=proxy-header", StringComparison.Ordinal)), "the proxy-header close line");
        await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted (at its close, after the client saw it)");
        Assert.Equal([4], await other.RoundTripAsync([4]));
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_connection_from_an_untrusted_source_is_closed_unechoed(string pool)
    {
        Assert.True(TrustedProxies.TryParse("10.0.0.0/8", out var trusted, out _));
        await using var server = await StartAsync(pool, o => o with { TrustedProxies = trusted! });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);

        await client.Socket.SendAsync((byte[])[.. Header(1, Client), .. "hello"u8], SocketFlags.None);

        Assert.True(await client.IsClosedByServerAsync(), "closed without an echo");
        var rejected = Assert.Single(server.Logs.Named("RefusedWithProblem"));
        Assert.Contains($"from {client.Socket.LocalEndPoint} refused: proxy-header, the peer is not a trusted proxy (--trusted-proxies)", rejected.Message, StringComparison.Ordinal);
        await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted");
        Assert.Equal(0, server.Service.Counters.Served);
        Assert.Equal(0, server.Service.Counters.BytesIn);
        Assert.Empty(server.Logs.Named("ConnectionAccepted"));
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task On_a_dual_stack_listener_an_IPv4_peer_matches_the_IPv4_loopback_range(string pool)
    {
        await using var server = await StartAsync(pool, o => o with { Host = IPAddress.IPv6Any });
        using var client = await EchoClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.EndPoint.Port));
        await client.Socket.SendAsync(Header(1, Client), SocketFlags.None);

        Assert.Equal([7], await client.RoundTripAsync([7]));
        Assert.Equal(Client, Assert.Single(server.Service.Connections.Snapshot()).RemoteEndPoint);
        Assert.Empty(server.Logs.Named("RefusedWithProblem"));
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_malformed_header_is_closed_unechoed_with_what_was_wrong(string pool)
    {
        await using var server = await StartAsync(pool);
        using var client = await EchoClient.ConnectAsync(server.EndPoint);

        await client.Socket.SendAsync("GET / HTTP/1.1\r\nHost: echo\r\n\r\n"u8.ToArray(), SocketFlags.None);

        Assert.True(await client.IsClosedByServerAsync(), "closed without an echo");
        Assert.Contains("refused: proxy-header, not a PROXY protocol header (first byte 0x47)", Assert.Single(server.Logs.Named("RefusedWithProblem")).Message, StringComparison.Ordinal);
        await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted");
        Assert.Equal(0, server.Service.Counters.BytesOut);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task The_per_address_limit_counts_the_address_in_the_header(string pool)
    {
        await using var server = await StartAsync(pool, o => o with { MaxConnectionsPerIp = 1 });
        using var first = await EchoClient.ConnectAsync(server.EndPoint);
        await first.Socket.SendAsync(Header(2, Client), SocketFlags.None);
        Assert.Equal([1], await first.RoundTripAsync([1]));

        // The same proxy, another client: served.
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        await second.Socket.SendAsync(Header(1, IPEndPoint.Parse("203.0.113.8:40001")), SocketFlags.None);
        Assert.Equal([2], await second.RoundTripAsync([2]));

        // The first client's address again, from another port: over the limit.
        using var third = await EchoClient.ConnectAsync(server.EndPoint);
        await third.Socket.SendAsync(Header(2, IPEndPoint.Parse("203.0.113.7:40002")), SocketFlags.None);
        Assert.True(await third.IsClosedByServerAsync(), "the second connection of 203.0.113.7 is refused");
        var refused = Assert.Single(server.Logs.Named("ConnectionRefused"));
        Assert.Contains("from 203.0.113.7:40002 refused: per-ip-limit", refused.Message, StringComparison.Ordinal);

        // When the first leaves, its address may connect again.
        first.Dispose();
        await Eventually.True(() => server.Service.Counters.Active == 1, "the first connection to close");
        using var again = await EchoClient.ConnectAsync(server.EndPoint);
        await again.Socket.SendAsync(Header(1, IPEndPoint.Parse("203.0.113.7:40003")), SocketFlags.None);
        Assert.Equal([3], await again.RoundTripAsync([3]));
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Stopping_closes_a_connection_still_without_its_header_at_once(string pool)
    {
        var server = await StartAsync(pool);
        await using (server)
        {
            using var silent = await EchoClient.ConnectAsync(server.EndPoint);
            await Eventually.True(() => server.Service.Counters.Active == 1, "the silent client to be accepted");

            var stopping = Stopwatch.StartNew();
            await Eventually.Completes(server.StopAsync(), "the stop");

            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"the stop took {stopping.Elapsed.TotalSeconds:F1} s");
            Assert.True(await silent.IsClosedByServerAsync(), "the silent client is closed");
            await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted (at its close, after the client saw it)");
            Assert.Equal(0, server.Service.Counters.Active);
        }
    }

    /// <summary>A server on <paramref name="pool"/> ("workers" or "executor") reading headers in <paramref name="mode"/>.</summary>
    internal static Task<TestServer> StartAsync(string pool, ProxyProtocolMode mode, Func<ServerOptions, ServerOptions>? configure) =>
        TestServer.StartAsync(
            pool == "workers" ? PoolKind.Workers : PoolKind.Executor,
            o => (configure ?? (x => x))(o with { ProxyProtocol = mode }));

    private static Task<TestServer> StartAsync(string pool, Func<ServerOptions, ServerOptions>? configure = null) => StartAsync(pool, ProxyProtocolMode.Required, configure);

    private static byte[] Header(int version, IPEndPoint client) =>
        version == 1 ? ProxyHeaders.V1(client, Frontend) : ProxyHeaders.V2(client, Frontend, ProxyHeaders.Tlv(0x01, "h2"u8));
}
