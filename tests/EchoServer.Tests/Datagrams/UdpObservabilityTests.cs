using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EchoServer.Datagrams;
using EchoServer.Pools;
using EchoServer.TestSupport;
using EchoServer.Tests.Diagnostics;

namespace EchoServer.Tests.Datagrams;

/// <summary>What --udp shows: the snapshot (text and JSON), the metrics, the stats line.</summary>
public sealed partial class UdpObservabilityTests
{
    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Datagrams_echoed_and_dropped_show_in_the_snapshot_the_metrics_and_the_stats_line(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with
        {
            AdminPort = 0,
            StatsInterval = TimeSpan.FromMilliseconds(200),
            Udp = new UdpSettings { RatePerIp = 3 },
        });
        using var http = AdminEndpointTests.AdminClient(server);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        for (int i = 0; i < 5; i++)
        {
            await client.SendToAsync("12345"u8.ToArray(), server.EndPoint);
        }

        var udp = server.Service.Udp!;
        await Eventually.True(() => udp.Counters.Echoed == 3 && udp.Counters.Dropped(DropReason.RateLimit) == 2, "3 echoed and 2 over the budget");

        string text = await http.GetStringAsync(new Uri("/snapshot", UriKind.Relative));
        Assert.Contains("udp: received=5 echoed=3 dropped=2 (rate-limit=2) bytes-in=25 bytes-out=15", text, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/snapshot.json", UriKind.Relative)));
        var u = json.RootElement.GetProperty("udp");
        Assert.Equal(5, u.GetProperty("received").GetInt64());
        Assert.Equal(3, u.GetProperty("echoed").GetInt64());
        Assert.Equal(2, u.GetProperty("droppedBy").GetProperty("rate-limit").GetInt64());

        string metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        string name = pool == PoolKind.Workers ? "workers" : "executor";
        Assert.Contains($"echo_udp_datagrams_total{{otel_scope_name=\"EchoServer\",echo_pool=\"{name}\",network_io_direction=\"receive\"}} 5", metrics, StringComparison.Ordinal);
        Assert.Contains($"echo_udp_dropped_datagrams_total{{otel_scope_name=\"EchoServer\",echo_drop_reason=\"rate-limit\",echo_pool=\"{name}\"}} 2", metrics, StringComparison.Ordinal);
        Assert.Contains($"echo_network_io_bytes_total{{otel_scope_name=\"EchoServer\",echo_pool=\"{name}\",network_io_direction=\"transmit\",network_transport=\"udp\"}} 15", metrics, StringComparison.Ordinal);

        // Each line counts what changed since the one before: over the lines, the two drops and their reason.
        await Eventually.True(
            () => server.Logs.Named("DatagramStats").Sum(e => long.Parse(DroppedField().Match(e.Message).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)) == 2
                && server.Logs.Named("DatagramStats").Any(e => e.Message.Contains("(rate-limit ", StringComparison.Ordinal)),
            "UDP stats lines naming the two drops");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"dropped (\d+)")]
    private static partial System.Text.RegularExpressions.Regex DroppedField();
}
