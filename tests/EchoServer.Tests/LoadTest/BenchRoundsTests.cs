using EchoServer.LoadTest;
using static EchoServer.Tests.LoadTest.ReportTableTests;

namespace EchoServer.Tests.LoadTest;

/// <summary>The benchmark over several rounds: each figure and target is the median of its rounds, and no failure hides behind one.</summary>
public sealed class BenchRoundsTests
{
    [Fact]
    public void With_an_odd_count_each_figure_and_target_is_the_middle_round()
    {
        var table = new BenchTable(
        [
            .. Rounds("c-epoll", "100c-64B", r => r with { MessagesPerSecond = 100_000 }, r => r with { MessagesPerSecond = 80_000 }, r => r with { MessagesPerSecond = 90_000 }),
            .. Rounds("executor", "100c-64B", r => r with { MessagesPerSecond = 70_000 }, r => r with { MessagesPerSecond = 99_000 }, r => r with { MessagesPerSecond = 95_000 }),
            .. Rounds("c-epoll", "1c-64B", r => r with { LatencyUs = Latency(p99: 58) }, r => r with { LatencyUs = Latency(p99: 49) }, r => r with { LatencyUs = Latency(p99: 51) }),
            .. Rounds("executor", "1c-64B", r => r with { LatencyUs = Latency(p99: 47) }, r => r with { LatencyUs = Latency(p99: 60) }, r => r with { LatencyUs = Latency(p99: 50) }),
        ]);

        string markdown = table.ToMarkdown();

        Assert.Contains("| 100 connections, 64 B ping-pong | msg/s | 90,000 | 95,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 1 connection, 64 B ping-pong | p99 µs | 51.0 | 50.0 |", markdown, StringComparison.Ordinal);
        Assert.Contains("Each figure: the median of 3 rounds.", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor msg/s ≥ 0.95× c-epoll (100 connections, 64 B ping-pong) | 95,000 | 90,000 | 1.06× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("Every run: zero errors", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void With_an_even_count_each_figure_is_the_mean_of_the_two_middle_rounds()
    {
        var table = new BenchTable(
        [
            .. Rounds("c-epoll", "100c-64B", r => r with { MessagesPerSecond = 100_000, ServerCpuUsPerMessage = 10 }, r => r with { MessagesPerSecond = 40_000, ServerCpuUsPerMessage = 40 },
                r => r with { MessagesPerSecond = 120_000, ServerCpuUsPerMessage = 20 }, r => r with { MessagesPerSecond = 90_000, ServerCpuUsPerMessage = 30 }),
            .. Rounds("workers", "100c-64B", r => r with { MessagesPerSecond = 80_000, ServerCpuUsPerMessage = 50 }, r => r with { MessagesPerSecond = 86_000, ServerCpuUsPerMessage = 30 },
                r => r with { MessagesPerSecond = 10_000, ServerCpuUsPerMessage = 40 }, r => r with { MessagesPerSecond = 90_000, ServerCpuUsPerMessage = 10 }),
        ]);

        string markdown = table.ToMarkdown();

        // c-epoll: (90,000 + 100,000) / 2 and (20 + 30) / 2; workers: (80,000 + 86,000) / 2 and (30 + 40) / 2.
        Assert.Contains("| 100 connections, 64 B ping-pong | msg/s | 95,000 | 83,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 100 connections, 64 B ping-pong | server µs CPU/msg | 25.0 | 35.0 |", markdown, StringComparison.Ordinal);
        Assert.Contains("Each figure: the median of 4 rounds.", markdown, StringComparison.Ordinal);
        Assert.Contains("| workers msg/s ≥ 0.85× c-epoll (100 connections, 64 B ping-pong) | 83,000 | 95,000 | 0.87× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| workers server µs CPU/msg ≤ 1.5× c-epoll (100 connections, 64 B ping-pong) | 35.0 | 25.0 | 1.40× | yes |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_in_one_round_shows_in_the_cell_and_under_the_table()
    {
        var table = new BenchTable(
        [
            .. Rounds("workers", "100c-64B", r => r with { MessagesPerSecond = 85_000 }, r => r with { MessagesPerSecond = 86_000, Errors = new Dictionary<string, long> { ["reset"] = 3 } },
                r => r with { MessagesPerSecond = 84_000 }),
            .. Rounds("executor", "100c-64B", r => r with { MessagesPerSecond = 90_000 }, r => r with { MessagesPerSecond = 91_000 }, r => r with { MessagesPerSecond = 92_000 }),
        ]);

        string markdown = table.ToMarkdown();

        Assert.Contains("| 100 connections, 64 B ping-pong | msg/s | 85,000 ⚠ | 91,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("workers 100c-64B round 2: reset 3", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("Every run: zero errors", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_single_round_reads_as_before_and_the_charts_draw_the_first_round()
    {
        string single = new BenchTable([Report(("server", "workers"), ("workload", "100c-64B"), ("round", "1"))]).ToMarkdown();
        Assert.DoesNotContain("median", single, StringComparison.Ordinal);

        var table = new BenchTable(
        [
            Report(("server", "workers"), ("workload", "100c-64B"), ("round", "2")) with { MessagesPerSecond = 2_000 },
            Report(("server", "workers"), ("workload", "100c-64B"), ("round", "1")) with { MessagesPerSecond = 1_000 },
        ]);

        var bars = Assert.Single(Assert.Single(table.Charts().ThroughputPanels()).Groups).Bars;
        Assert.Equal(1_000, Assert.Single(bars).Value);
        Assert.Single(Assert.Single(table.Charts().LatencyPanels()).Lines);
    }

    /// <summary>One report per round of a server in a workload, labelled round 1, 2, …</summary>
    private static IEnumerable<LoadReport> Rounds(string server, string workload, params Func<LoadReport, LoadReport>[] rounds) =>
        rounds.Select((round, i) => round(Report(("server", server), ("workload", workload), ("round", $"{i + 1}"))));
}
