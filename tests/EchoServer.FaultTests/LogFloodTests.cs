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
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with { PoolSettings = TestServer.Pool(1, 1), MaxConnections = 5000 });
        using var holder = await EchoClient.ConnectAsync(server.EndPoint);
        await holder.RoundTripAsync([1]);
        using var queued = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Pool.QueueLength == 1, "the queue to be full");

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
        var warnings = server.Logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.All(warnings, w => Assert.Equal("ConnectionRefused", w.EventId.Name));
        Assert.InRange(warnings.Count, 1, (int)Math.Ceiling(seconds) + 1);

        // The suppressed counts plus the lines logged account for every refusal.
        long suppressed = warnings.Sum(w => long.Parse(w.Message.Split("; ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2000, suppressed + warnings.Count + server.Service.RefusalsNotYetLogged);
    }
}
