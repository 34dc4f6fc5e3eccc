using System.Diagnostics.Metrics;
using EchoServer.Diagnostics;
using EchoServer.Hosting;
using EchoServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace EchoServer.Tests.Diagnostics;

/// <summary>A background callback that throws is contained, counted and logged: a timer's exception would end the process.</summary>
public sealed class BackgroundFaultsTests
{
    [Fact]
    public async Task A_live_history_tick_that_throws_is_counted_and_logged_and_the_timer_goes_on()
    {
        var logs = new TestLoggerProvider();
        var faults = new BackgroundFaults(logs.CreateLogger("test"));
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new ServerMetrics(services.GetRequiredService<IMeterFactory>(), "executor");
        metrics.Observe(() => 0, () => default, () => [], () => (0, 0));
        int calls = 0;

        // The first read is the constructor's; every tick's read throws, as a failed assembly load did.
        using var history = new LiveHistory(new ServerCounters(), metrics.TrackQueueWaits(), () => Interlocked.Increment(ref calls) > 1 ? throw new FileNotFoundException("Could not load file or assembly") : 0, () => TimeSpan.Zero, faults, TimeSpan.FromMilliseconds(20));

        await Eventually.True(() => faults.Count >= 3, "three failed ticks, counted");

        var line = Assert.Single(logs.Named("BackgroundFailed")); // rate-limited: one line per 10 s
        Assert.Contains("The live view's history failed and was skipped; the server goes on (background failures so far: 1", line.Message, StringComparison.Ordinal);
        Assert.IsType<FileNotFoundException>(line.Exception);
    }

    [Fact]
    public async Task Requests_in_a_burst_are_answered_by_at_most_two_runs()
    {
        var faults = new BackgroundFaults(new TestLoggerProvider().CreateLogger("test"));
        long answered = 0;
        int runs = 0;
        using var action = new CoalescedAction("test", TimeSpan.FromSeconds(30), n => { Interlocked.Add(ref answered, n); Interlocked.Increment(ref runs); }, faults);

        for (int i = 0; i < 100; i++)
        {
            action.Request();
        }

        await Eventually.True(() => Volatile.Read(ref runs) >= 1, "the first run, at once");
        Assert.Equal(1, Volatile.Read(ref runs)); // the rest wait for the interval, merged into one run
        Assert.InRange(Interlocked.Read(ref answered), 1, 100);
    }
}
