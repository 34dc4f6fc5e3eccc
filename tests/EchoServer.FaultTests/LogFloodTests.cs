using System.Diagnostics;
using System.Text.RegularExpressions;
using EchoServer.Connections;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.FaultTests;

/// <summary>A storm of refusals cannot flood the log: warnings are rate-limited with a count of the rest.</summary>
public sealed partial class LogFloodTests
{
    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task Two_thousand_refusals_log_about_one_warning_per_second(string pool)
    {
        // Refused at hand-off in both pools: this address already holds its one connection.
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with { MaxConnectionsPerIp = 1, MaxConnections = 5000 });
        using var holder = await EchoClient.ConnectAsync(server.EndPoint);
        await holder.RoundTripAsync([1]);

        var clock = Stopwatch.StartNew();
        for (int batch = 0; batch < 20; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
            {
                using var refused = await EchoClient.ConnectAsync(server.EndPoint);
                await refused.IsClosedByServerAsync();
            }));
        }

        await Eventually.True(() => server.Service.Counters.Refused == 2000, "2000 refusals to be counted");
        double seconds = clock.Elapsed.TotalSeconds;
        Assert.All(server.Logs.Entries.Where(e => e.Level >= LogLevel.Warning), w => Assert.Contains(w.EventId.Name, new[] { "ConnectionRefused", "RefusalsSummary" }));
        var warnings = server.Logs.Named("ConnectionRefused").ToList();

        // A refusal costs a counter, not an "accepted" and a "closed" line each.
        Assert.Single(server.Logs.Named("ConnectionAccepted"));
        Assert.DoesNotContain(server.Logs.Named("ConnectionClosed"), e => e.Level > LogLevel.Debug && e.Message.Contains("per-ip-limit", StringComparison.Ordinal));
        Assert.InRange(warnings.Count, 1, (int)Math.Ceiling(seconds) + 1);

        // The end of the storm is reported within about a second, without another refusal to carry it, and the
        // lines logged with the counts they say were held back account for every refusal. (A held-back count is
        // taken before its summary line is written, possibly while the storm still runs: wait for the line.)
        await Eventually.True(() => Reported(server, "ConnectionRefused") == 2000, "every refusal to be logged or counted in a line", TimeSpan.FromSeconds(3));
    }

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task A_storm_of_bad_proxy_headers_logs_about_one_line_per_second_and_accounts_for_every_one(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with { ProxyProtocol = ProxyProtocolMode.Required, MaxConnections = 5000 });

        var clock = Stopwatch.StartNew();
        for (int batch = 0; batch < 5; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
            {
                using var client = await EchoClient.ConnectAsync(server.EndPoint);
                await client.Socket.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), System.Net.Sockets.SocketFlags.None);
                await client.IsClosedByServerAsync();
            }));
        }

        await Eventually.True(() => server.Service.Counters.Refused == 500, "500 refusals to be counted");
        double seconds = clock.Elapsed.TotalSeconds;
        var lines = server.Logs.Named("ProxyHeaderRejected").ToList();
        Assert.InRange(lines.Count, 1, (int)Math.Ceiling(seconds) + 1);
        Assert.All(lines, l => Assert.Contains("refused: proxy-header, not a PROXY protocol header (first byte 0x47)", l.Message, StringComparison.Ordinal));
        Assert.Empty(server.Logs.Named("ConnectionAccepted"));

        // The end of the storm is reported without another refusal to carry it: the lines and their held-back
        // counts account for every refusal. (The count is taken before its summary line is written: wait for the line.)
        await Eventually.True(() => Reported(server, "ProxyHeaderRejected") == 500, "every refusal to be logged or counted in a line", TimeSpan.FromSeconds(3));
    }

    // Refusals logged one a line, plus those each line and each summary says were held back.
    private static long Reported(TestServer server, string refusalEvent) =>
        server.Logs.Named(refusalEvent).Sum(l => 1 + HeldBack(l.Message))
        + server.Logs.Named("RefusalsSummary").Sum(l => HeldBack(l.Message));

    // A refusal line says how many like it were held back only when some were.
    private static long HeldBack(string line) =>
        HeldBackCount().Match(line) is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"[Rr]efusals not logged since the last (?:such|refusal) line: (\d+)")]
    private static partial Regex HeldBackCount();
}
