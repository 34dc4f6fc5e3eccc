using System.Net;
using EchoServer.Connections;
using EchoServer.LoadTest;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.LoadTest;

/// <summary>echo-load --proxy-protocol: the headers it builds, read by the server's own parser and by the server itself in every mode.</summary>
public sealed class ProxyHeaderTests
{
    public static TheoryData<int, string, string, string> Headers => new()
    {
        { 1, "203.0.113.7:40000", "127.0.0.1:7007", "203.0.113.7:40000" },
        { 2, "203.0.113.7:40000", "127.0.0.1:7007", "203.0.113.7:40000" },
        { 1, "[2001:db8::7]:65535", "[::1]:7007", "[2001:db8::7]:65535" },
        { 2, "[2001:db8::7]:1", "[::1]:7007", "[2001:db8::7]:1" },
        { 1, "203.0.113.7:40000", "[::1]:7007", "[::ffff:203.0.113.7]:40000" }, // one family: the IPv4 end mapped
        { 2, "[2001:db8::7]:40000", "127.0.0.1:7007", "[2001:db8::7]:40000" },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void The_header_is_one_the_servers_parser_reads_whole_naming_the_source(int version, string source, string destination, string named)
    {
        byte[] header = ProxyHeader.Build(version, IPEndPoint.Parse(source), IPEndPoint.Parse(destination));

        var parser = new ProxyHeaderParser();
        Assert.Equal(ProxyHeaderStatus.Complete, parser.Feed([.. header, .. "data"u8], out int consumed));
        Assert.Equal(header.Length, consumed);
        Assert.Equal(version, parser.Version);
        Assert.Equal(IPEndPoint.Parse(named), parser.Source);
    }

    [Fact]
    public void A_v1_header_names_both_ends_as_the_specification_spells_them()
    {
        byte[] header = ProxyHeader.Build(1, IPEndPoint.Parse("203.0.113.7:40000"), IPEndPoint.Parse("127.0.0.1:7007"));

        Assert.Equal("PROXY TCP4 203.0.113.7 127.0.0.1 40000 7007\r\n"u8.ToArray(), header);
    }

    [Theory]
    [InlineData(LoadMode.Echo, 1)]
    [InlineData(LoadMode.Connect, 2)]
    [InlineData(LoadMode.Hold, 1)]
    internal async Task Every_connection_of_every_mode_starts_with_a_header_naming_the_proxy_source(LoadMode mode, int version)
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { ProxyProtocol = ProxyProtocolMode.Required, LogLevel = LogLevel.Information });
        var options = new LoadOptions
        {
            Port = server.EndPoint.Port, Mode = mode, Connections = 3, Messages = mode == LoadMode.Hold ? null : 30, Duration = TimeSpan.FromMilliseconds(500),
            ProgressInterval = TimeSpan.Zero, ProxyProtocol = version, ProxySource = IPEndPoint.Parse("203.0.113.7:40000"),
        };

        var report = await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), "the run");

        Assert.Empty(report.Errors);
        var accepted = server.Logs.Named("ConnectionAccepted").ToList();
        Assert.True(accepted.Count >= 3, $"{accepted.Count} connections accepted");
        Assert.All(accepted, e => Assert.Contains("accepted from 203.0.113.7:40000 ", e.Message, StringComparison.Ordinal));
        Assert.Empty(server.Logs.Named("RefusedWithProblem"));
    }

    [Fact]
    internal async Task By_default_the_header_names_each_connections_own_address_and_port_zero_keeps_its_own_port()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Workers, o => o with { ProxyProtocol = ProxyProtocolMode.Required });
        var options = new LoadOptions { Port = server.EndPoint.Port, Mode = LoadMode.Connect, Connections = 2, Messages = 10, ProgressInterval = TimeSpan.Zero, ProxyProtocol = 2 };

        var report = await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), "the default source's run");
        var zeroPort = await Eventually.Completes(new LoadRunner(options with { ProxySource = IPEndPoint.Parse("203.0.113.9:0") }, server.EndPoint).RunAsync(null, CancellationToken.None), "port 0's run");

        Assert.Empty(report.Errors);
        Assert.Empty(zeroPort.Errors);
        var read = server.Logs.Named("ProxyHeaderRead").Select(e => e.Message).ToList();
        Assert.Equal(20, read.Count);

        // "header from 127.0.0.1:P, client 127.0.0.1:P": the connection's own endpoint, then 203.0.113.9 with that same port.
        Assert.Equal(10, read.Count(m => System.Text.RegularExpressions.Regex.IsMatch(m, @"header from 127\.0\.0\.1:(\d+), client 127\.0\.0\.1:\1$")));
        Assert.Equal(10, read.Count(m => System.Text.RegularExpressions.Regex.IsMatch(m, @"header from 127\.0\.0\.1:(\d+), client 203\.0\.113\.9:\1$")));
    }
}
