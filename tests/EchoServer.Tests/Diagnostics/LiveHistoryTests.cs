using System.Diagnostics.Metrics;
using EchoServer.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoServer.Tests.Diagnostics;

/// <summary>The live view's last minute: rates per second and the queue-wait p99 from the server's own histogram.</summary>
public sealed class LiveHistoryTests
{
    [Fact]
    public void A_sample_holds_the_rates_since_the_last_one_and_the_p99_of_the_waits_recorded_in_between()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var counters = new ServerCounters();
        long bytesOut = 0;
        using var metrics = new ServerMetrics(services.GetRequiredService<IMeterFactory>(), "workers");
        metrics.Observe(() => 0, () => default, () => [], () => (0, bytesOut));
        using var history = new LiveHistory(counters, metrics.TrackQueueWaits(), () => bytesOut, () => TimeSpan.FromSeconds(7), new BackgroundFaults(NullLogger.Instance), Timeout.InfiniteTimeSpan);

        for (int i = 0; i < 100; i++)
        {
            counters.OnAccepted();
            metrics.SlotGranted(TimeSpan.FromMilliseconds(i < 98 ? 1 : 40));
        }

        counters.OnClosed(served: false, 0, 0);
        bytesOut = 3 << 20;
        history.Tick();

        var sample = Assert.Single(history.Samples());
        Assert.Equal(7, sample.UptimeSeconds);
        Assert.True(sample.AcceptedPerSecond > 0 && sample.RefusedPerSecond > 0 && sample.ClosedPerSecond == sample.RefusedPerSecond && sample.MibPerSecond > 0, sample.ToString());
        Assert.InRange(sample.QueueWaitP99Ms, 39.5, 40.5);

        history.Tick();
        var quiet = history.Samples()[^1];
        Assert.Equal((0, 0, 0, 0, 0, 0), (quiet.AcceptedPerSecond, quiet.RefusedPerSecond, quiet.ClosedPerSecond, quiet.MibPerSecond, quiet.QueueWaitP99Ms, quiet.OldestQueueWaitMs));
    }

    [Fact]
    public void A_sample_counts_the_waits_still_in_progress_in_its_p99_and_shows_the_oldest()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IReadOnlyList<TimeSpan> waiting = [TimeSpan.FromMilliseconds(2500), TimeSpan.FromMilliseconds(1200)];
        using var metrics = new ServerMetrics(services.GetRequiredService<IMeterFactory>(), "workers");
        metrics.Observe(() => 0, () => default, () => waiting, () => (0, 0));
        using var history = new LiveHistory(new ServerCounters(), metrics.TrackQueueWaits(), () => 0, () => TimeSpan.FromSeconds(1), new BackgroundFaults(NullLogger.Instance), Timeout.InfiniteTimeSpan);

        // Clients starved all second long: no wait has ended, so no grant was recorded.
        history.Tick();
        var starved = history.Samples()[^1];
        Assert.InRange(starved.QueueWaitP99Ms, 2450, 2550);
        Assert.Equal(2500, starved.OldestQueueWaitMs);

        // Next second they are still waiting, older, next to grants that waited a millisecond.
        waiting = [TimeSpan.FromMilliseconds(3500), TimeSpan.FromMilliseconds(2200)];
        for (int i = 0; i < 10; i++)
        {
            metrics.SlotGranted(TimeSpan.FromMilliseconds(1));
        }

        history.Tick();
        var still = history.Samples()[^1];
        Assert.InRange(still.QueueWaitP99Ms, 3450, 3550);
        Assert.Equal(3500, still.OldestQueueWaitMs);

        waiting = [];
        history.Tick();
        Assert.Equal((0, 0), (history.Samples()[^1].QueueWaitP99Ms, history.Samples()[^1].OldestQueueWaitMs));
    }

    [Fact]
    public void It_keeps_the_last_minute_oldest_first()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new ServerMetrics(services.GetRequiredService<IMeterFactory>(), "executor");
        metrics.Observe(() => 0, () => default, () => [], () => (0, 0));
        double uptime = 0;
        using var history = new LiveHistory(new ServerCounters(), metrics.TrackQueueWaits(), () => 0, () => TimeSpan.FromSeconds(uptime), new BackgroundFaults(NullLogger.Instance), Timeout.InfiniteTimeSpan);

        for (int i = 1; i <= LiveHistory.Seconds + 5; i++)
        {
            uptime = i;
            history.Tick();
        }

        var samples = history.Samples();
        Assert.Equal(LiveHistory.Seconds, samples.Count);
        Assert.Equal(Enumerable.Range(6, LiveHistory.Seconds).Select(i => (double)i), samples.Select(s => s.UptimeSeconds));
    }
}
