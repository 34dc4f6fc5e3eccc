using System.Diagnostics;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.FaultTests;

/// <summary>A storm of refusals cannot flood the log: warnings are rate-limited with a count of the rest.</summary>
public sealed class LogFloodTests
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

        await Eventually.True(() => server.Service.Tracker.Counters.Refused == 2000, "2000 refusals to be counted");
        double seconds = clock.Elapsed.TotalSeconds;
        Assert.All(server.Logs.Entries.Where(e => e.Level >= LogLevel.Warning), w => Assert.Contains(w.EventId.Name, new[] { "ConnectionRefused", "RefusalsSummary" }));
        var warnings = server.Logs.Named("ConnectionRefused").ToList();

        // A refusal costs a counter, not an "accepted" and a "closed" line each.
        Assert.Single(server.Logs.Named("ConnectionAccepted"));
        Assert.DoesNotContain(server.Logs.Named("ConnectionClosed"), e => e.Level > LogLevel.Debug && e.Message.Contains("per-ip-limit", StringComparison.Ordinal));
        Assert.InRange(warnings.Count, 1, (int)Math.Ceiling(seconds) + 1);

        // The suppressed counts plus the lines logged account for every refusal.
        long suppressed = warnings.Sum(w => long.Parse(w.Message.Split("; ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2000, suppressed + warnings.Count + server.Service.Tracker.RefusalsNotYetLogged);

        // The end of the storm is reported within about a second, without another refusal to carry it.
        await Eventually.True(() => server.Service.Tracker.RefusalsNotYetLogged == 0, "the held-back refusals to be flushed", TimeSpan.FromSeconds(3));
        var all = server.Logs.Entries.Where(e => e.EventId.Name is "ConnectionRefused" or "RefusalsSummary").ToList();
        long reported = all.Sum(w => w.EventId.Name == "RefusalsSummary"
            ? long.Parse(w.Message.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)
            : 1 + long.Parse(w.Message.Split("; ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2000, reported);
    }
}
