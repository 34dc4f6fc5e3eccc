using System.Diagnostics;
using System.Globalization;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.Diagnostics;

public sealed class StatsLineTests
{
    [Theory]
    [InlineData(PoolKind.Workers)]
    internal async Task The_stats_line_reports_rates_queue_busy_workers_refusals_and_queue_wait(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { PoolSettings = TestServer.Pool(1, 1), StatsInterval = TimeSpan.FromMilliseconds(200) });
        using var served = await EchoClient.ConnectAsync(server.EndPoint);
        await served.RoundTripAsync(new byte[4096]);
        using var queued = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Pool.Load.Queued == 1, "the queue to fill");
        var queuedFor = Stopwatch.StartNew();
        using var refused = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.True(await refused.IsClosedByServerAsync());

        string name = pool == PoolKind.Workers ? "workers" : "executor";
        await Eventually.True(() => RefusedAcross(server.Logs.Named("Stats")) == 1, "the refusal to show in a stats line");
        await Eventually.True(
            () => server.Logs.Named("Stats").Any(e => e.Message.Contains($"active 2, queue 1, busy 1/1, refused 0,", StringComparison.Ordinal)),
            "a stats line with the steady state");
        var lines = server.Logs.Named("Stats").ToList();
        Assert.All(lines, l => Assert.Equal(LogLevel.Information, l.Level));
        Assert.All(lines, l => Assert.Matches(@"^Stats: \d+\.\d conn/s, \d+\.\d\d MiB/s echoed, active \d+, queue \d+, busy \d+/1, refused \d+, p99 queue wait \d+\.\d\d ms, oldest queue wait \d+\.\d\d ms \(pool=" + name + @"\)$", l.Message));

        // Across the lines, the deltas add up to what happened.
        Assert.Equal(1, RefusedAcross(lines));

        // The queued client's wait for the worker shows once it is granted.
        var leastWait = queuedFor.Elapsed;
        served.Dispose();
        await Eventually.True(
            () => server.Logs.Named("Stats").Any(e => QueueWaitP99(e.Message) >= Math.Floor(leastWait.TotalMilliseconds)),
            $"a stats line with a p99 queue wait of at least {leastWait.TotalMilliseconds:F0} ms");
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task While_clients_wait_for_the_only_slot_the_stats_line_shows_their_waits_in_its_p99_and_the_oldest(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { PoolSettings = TestServer.Pool(1, 4), StatsInterval = TimeSpan.FromMilliseconds(200) });
        // The worker pool's slot is held by a client that never reads; an executor's by a long burst (a client
        // that never reads gives its slot back while its echo waits).
        using var holder = pool == PoolKind.Executor ? SlotHolder.Install(server) : null;
        using IDisposable hog = holder is null ? await SlotHog.ConnectAsync(server.EndPoint) : await holder.ConnectHeldAsync(server);
        await Eventually.True(() => holder is not null || SlotHog.AreBlocked(server), "the hog to hold the only slot, blocked in a send");
        using var first = await EchoClient.ConnectAsync(server.EndPoint);
        await first.Socket.SendAsync(new byte[] { 1 });
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        await second.Socket.SendAsync(new byte[] { 2 });
        await Eventually.True(() => server.Service.Pool.Load.Queued == 2, "two clients waiting for the slot");

        // Their waits have not ended (nothing recorded for them), yet a line taken while they wait shows them.
        await Eventually.True(
            () => server.Logs.Named("Stats").Any(e => e.Message.Contains("queue 2,", StringComparison.Ordinal) && OldestQueueWait(e.Message) > 0 && QueueWaitP99(e.Message) >= OldestQueueWait(e.Message)),
            "a stats line, taken while two clients wait, with their waits in its p99 and the oldest wait");
        Assert.Equal(2, server.Service.Pool.Load.Queued);
    }

    private static int RefusedAcross(IEnumerable<LogEntry> lines) =>
        lines.Sum(l => int.Parse(l.Message.Split("refused ")[1].Split(',')[0], CultureInfo.InvariantCulture));

    private static double QueueWaitP99(string line) => Figure(line, "p99 queue wait ");

    private static double OldestQueueWait(string line) => Figure(line, "oldest queue wait ");

    // The number after a label; -1 when the line has no such label.
    private static double Figure(string line, string label) =>
        line.Split(label) is [_, var rest, ..] ? double.Parse(rest.Split(' ')[0], CultureInfo.InvariantCulture) : -1;
}
