using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoServer.Connections;
using EchoServer.Echo;
using EchoServer.Hosting;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Listening;

/// <summary>
/// --proxy-protocol optional over loopback, for both pools: headers and plain clients on one port, each decided by
/// its first bytes or, when they cannot tell, by the deadline, without holding a worker or a slot meanwhile.
/// </summary>
public sealed class ProxyProtocolOptionalTests
{
    // The deadline is a runtime timer, which counts a coarser clock than the stopwatch: it may fire a few
    // milliseconds before the stopwatch says 3 s (seen once). Deciding by the bytes would take microseconds.
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(50);

    private static readonly IPEndPoint Client = IPEndPoint.Parse("203.0.113.7:40001");
    private static readonly IPEndPoint Frontend = IPEndPoint.Parse("192.0.2.1:7007");

    public static TheoryData<string> Pools => new() { "workers", "executor" };

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_v1_header_a_v2_header_and_no_header_share_one_port_and_the_plain_client_is_echoed_at_once(string pool)
    {
        await using var server = await StartAsync(pool);
        using var v1 = await EchoClient.ConnectAsync(server.EndPoint);
        using var v2 = await EchoClient.ConnectAsync(server.EndPoint);
        using var plain = await EchoClient.ConnectAsync(server.EndPoint);
        var connected = Stopwatch.StartNew();

        Assert.Equal("plain"u8.ToArray(), await plain.RoundTripAsync("plain"u8.ToArray()));
        Assert.True(connected.Elapsed < ProxyHeaderStage.Deadline, $"a client whose first byte rules a header out waited {connected.Elapsed.TotalSeconds:F1} s");
        await v1.Socket.SendAsync((byte[])[.. ProxyHeaders.V1(Client, Frontend), .. "one"u8], SocketFlags.None);
        Assert.Equal("one"u8.ToArray(), await v1.ReadExactlyAsync(3));
        await v2.Socket.SendAsync(ProxyHeaders.V2(IPEndPoint.Parse("203.0.113.8:40002"), Frontend, ProxyHeaders.Tlv(0x01, "h2"u8)), SocketFlags.None);
        Assert.Equal("two"u8.ToArray(), await v2.RoundTripAsync("two"u8.ToArray()));

        var accepted = server.Logs.Named("ConnectionAccepted").Select(e => e.Message).ToList();
        Assert.True(accepted.Any(m => m.Contains("accepted from 203.0.113.7:40001 ", StringComparison.Ordinal)), string.Join("\n", server.Logs.Entries.Select(e => e.Message)));
        Assert.Contains(accepted, m => m.Contains("accepted from 203.0.113.8:40002 ", StringComparison.Ordinal));
        Assert.Contains(accepted, m => m.Contains($"accepted from {plain.Socket.LocalEndPoint} ", StringComparison.Ordinal));
        Assert.Contains("from " + plain.Socket.LocalEndPoint + ": no PROXY protocol header (optional), served as it is, its first 5 bytes read as data", Assert.Single(server.Logs.Named("ProxyHeaderAbsent")).Message, StringComparison.Ordinal);
        Assert.Empty(server.Logs.Named("RefusedWithProblem"));
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Bytes_that_could_still_begin_a_header_wait_for_the_deadline_holding_no_worker_and_are_then_echoed(string pool)
    {
        // Two workers (or slots), four connections deciding: the plain client is served meanwhile all the same.
        await using var server = await StartAsync(pool, o => o with { PoolSettings = TestServer.Pool(2, 16) });
        var connectedAt = Stopwatch.GetTimestamp();
        using var oneByte = await EchoClient.ConnectAsync(server.EndPoint);
        using var partialV2 = await EchoClient.ConnectAsync(server.EndPoint);
        using var headerBegun = await EchoClient.ConnectAsync(server.EndPoint);
        using var diverging = await EchoClient.ConnectAsync(server.EndPoint);
        await oneByte.Socket.SendAsync("P"u8.ToArray(), SocketFlags.None);
        await partialV2.Socket.SendAsync("\r\n\r\n"u8.ToArray(), SocketFlags.None); // an empty line twice: the v2 signature's first 4 bytes
        await headerBegun.Socket.SendAsync("PROXY "u8.ToArray(), SocketFlags.None);
        await diverging.Socket.SendAsync("PRO"u8.ToArray(), SocketFlags.None);
        await Eventually.True(() => server.Service.Connections.Snapshot().Count(c => c.Progress.Waiting.Kind == SessionWait.Header) == 4, "four connections deciding");

        // A partial signature that then diverges is data at once, as is a plain client.
        await diverging.Socket.SendAsync("BE"u8.ToArray(), SocketFlags.None);
        Assert.Equal("PROBE"u8.ToArray(), await diverging.ReadExactlyAsync(5));
        using (var plain = await EchoClient.ConnectAsync(server.EndPoint))
        {
            Assert.Equal([1, 2, 3], await plain.RoundTripAsync([1, 2, 3]));
        }

        Assert.True(Stopwatch.GetElapsedTime(connectedAt) < ProxyHeaderStage.Deadline, "decided by the bytes, before the deadline");
        diverging.Dispose(); // a worker's client for its whole life: its worker goes back for the two still deciding

        Assert.Equal("P"u8.ToArray(), await oneByte.ReadExactlyAsync(1));
        Assert.True(Stopwatch.GetElapsedTime(connectedAt) >= ProxyHeaderStage.Deadline - TimerSlack, "not before the deadline");
        Assert.Equal("\r\n\r\n"u8.ToArray(), await partialV2.ReadExactlyAsync(4));
        Assert.Equal([9], await oneByte.RoundTripAsync([9]));

        // A whole signature begins a header: it must then come whole, as when required.
        Assert.True(await headerBegun.IsClosedByServerAsync(), "a header begun and never finished is refused");
        Assert.Contains("refused: proxy-header, no complete header within 3 s", Assert.Single(server.Logs.Named("RefusedWithProblem")).Message, StringComparison.Ordinal);
        await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted (at its close, after the client saw it)");
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_silent_client_is_served_when_it_speaks_and_silence_past_the_deadline_means_no_header(string pool)
    {
        await using var server = await StartAsync(pool);
        var connectedAt = Stopwatch.GetTimestamp();
        using var speaksSoon = await EchoClient.ConnectAsync(server.EndPoint);
        using var speaksLate = await EchoClient.ConnectAsync(server.EndPoint);
        using var leaves = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Connections.Snapshot().Count(c => c.Progress.Waiting.Kind == SessionWait.Header) == 3, "three silent connections deciding");

        // Speaking before the deadline: the first byte decides, the deadline is not waited for.
        Assert.Equal("hello"u8.ToArray(), await speaksSoon.RoundTripAsync("hello"u8.ToArray()));
        Assert.True(Stopwatch.GetElapsedTime(connectedAt) < ProxyHeaderStage.Deadline, "served before the deadline");

        // Leaving without a byte is a client that closed, not a refusal.
        leaves.Socket.Shutdown(SocketShutdown.Send);
        Assert.Empty(await leaves.ReadToEndAsync());

        // Silent past the deadline: no header, so even a header's bytes sent later are data.
        await Eventually.True(() => server.Service.Connections.Snapshot().All(c => c.Progress.Waiting.Kind != SessionWait.Header), "the deadline to pass");
        Assert.True(Stopwatch.GetElapsedTime(connectedAt) >= ProxyHeaderStage.Deadline - TimerSlack, "not before the deadline");
        var header = ProxyHeaders.V1(Client, Frontend);
        Assert.Equal(header, await speaksLate.RoundTripAsync(header));
        Assert.Contains(server.Logs.Named("ConnectionAccepted"), e => e.Message.Contains($"accepted from {speaksLate.Socket.LocalEndPoint} ", StringComparison.Ordinal));

        Assert.Equal(0, server.Service.Counters.Refused);
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=client-closed", StringComparison.Ordinal)), "the leaving client's close line");
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task From_an_untrusted_source_a_header_is_data_echoed_back_and_the_address_is_the_peers(string pool)
    {
        Assert.True(TrustedProxies.TryParse("10.0.0.0/8", out var trusted, out _));
        await using var server = await StartAsync(pool, o => o with { TrustedProxies = trusted! });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);

        byte[] sent = [.. ProxyHeaders.V2(Client, Frontend), .. "hello"u8];
        Assert.Equal(sent, await client.RoundTripAsync(sent));

        Assert.Contains($"accepted from {client.Socket.LocalEndPoint} ", Assert.Single(server.Logs.Named("ConnectionAccepted")).Message, StringComparison.Ordinal);
        Assert.Empty(server.Logs.Named("ProxyHeaderAbsent")); // never looked at: plain data from the first byte
        Assert.Equal(0, server.Service.Counters.Refused);
    }

    private static Task<TestServer> StartAsync(string pool, Func<ServerOptions, ServerOptions>? configure = null) =>
        ProxyProtocolTests.StartAsync(pool, ProxyProtocolMode.Optional, configure);
}
