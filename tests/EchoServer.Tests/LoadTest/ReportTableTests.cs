using EchoServer.LoadTest;

namespace EchoServer.Tests.LoadTest;

/// <summary>The summary table and the benchmark verdicts, from hand-made reports.</summary>
public sealed class ReportTableTests
{
    [Fact]
    public void The_summary_has_a_row_per_run()
    {
        var summary = new Summary(
        [
            Report(("pool", "workers")) with { MessagesPerSecond = 50_000, LatencyUs = Latency(p99: 120) },
            Report(("pool", "executor")) with { MessagesPerSecond = 60_000, LatencyUs = Latency(p99: 90) },
        ]);

        string markdown = summary.ToMarkdown();
        Assert.Contains("| pool=workers | 64 B × 100 conn | 50,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| pool=executor | 64 B × 100 conn | 60,000 |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Udp_runs_show_datagrams_per_second_p99_and_loss_in_both_tables()
    {
        LoadReport Udp(string server) => Report(("server", server), ("workload", "udp-100c-64B")) with
        {
            Transport = "udp", MessagesPerSecond = 40_000, LatencyUs = Latency(p99: 250), DatagramsSent = 2000, DatagramsLost = 5,
        };
        var reports = new[] { Udp("c-udp"), Udp("workers") with { DatagramsLost = 0, MessagesPerSecond = 30_000 } };

        string bench = new BenchTable(reports).ToMarkdown();
        Assert.Contains("| UDP, 100 sockets, 64 B ping-pong | datagrams/s | 40,000 ⚠ | 30,000 |", bench, StringComparison.Ordinal);
        Assert.Contains("| UDP, 100 sockets, 64 B ping-pong | p99 µs | 250.0 ⚠ | 250.0 |", bench, StringComparison.Ordinal);
        Assert.Contains("| UDP, 100 sockets, 64 B ping-pong | loss % | 0.25 ⚠ | 0.00 |", bench, StringComparison.Ordinal);
        Assert.Contains("c-udp udp-100c-64B: lost 5 of 2,000 datagrams", bench, StringComparison.Ordinal);

        string summary = new Summary(reports).ToMarkdown();
        Assert.Contains("| server=c-udp workload=udp-100c-64B | 64 B × 100 UDP sockets | 40,000 |", summary, StringComparison.Ordinal);
        Assert.Contains("/100 | 0.25% |", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Targets_are_ratios_to_the_reference_server_with_the_right_direction()
    {
        var table = new BenchTable(
        [
            Report(("server", "c-epoll"), ("workload", "100c-64B")) with { MessagesPerSecond = 100_000, ServerCpuUsPerMessage = 6 },
            Report(("server", "workers"), ("workload", "100c-64B")) with { MessagesPerSecond = 85_000, ServerCpuUsPerMessage = 12 },
            Report(("server", "executor"), ("workload", "100c-64B")) with { MessagesPerSecond = 90_000, ServerCpuUsPerMessage = 8 },
            Report(("server", "go"), ("workload", "10k-idle")) with { ServerPeakRssMiB = 100 },
            Report(("server", "executor"), ("workload", "10k-idle")) with { ServerPeakRssMiB = 50 },
        ]);

        string markdown = table.ToMarkdown();
        Assert.Contains("| workers msg/s ≥ 0.85× c-epoll (100 connections, 64 B ping-pong) | 85,000 | 100,000 | 0.85× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor msg/s ≥ 0.95× c-epoll (100 connections, 64 B ping-pong) | 90,000 | 100,000 | 0.90× | **no** |", markdown, StringComparison.Ordinal);
        Assert.Contains("| workers server µs CPU/msg ≤ 1.5× c-epoll (100 connections, 64 B ping-pong) | 12.0 | 6.00 | 2.00× | **no** |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor server µs CPU/msg ≤ 1.5× c-epoll (100 connections, 64 B ping-pong) | 8.00 | 6.00 | 1.33× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor peak RSS MiB ≤ 0.7× go", markdown, StringComparison.Ordinal);
        Assert.Contains("| 50.0 | 100.0 | 0.50× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("Every run: zero errors, zero mismatched bytes, every connection answered, no datagram lost.", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_load_client_cost_sits_beside_the_server_cost_and_the_AOT_builds_face_the_same_targets()
    {
        var table = new BenchTable(
        [
            Report(("server", "c-epoll"), ("workload", "100c-64B")) with { MessagesPerSecond = 100_000, ServerCpuUsPerMessage = 6, ClientCpuUsPerMessage = 7.5 },
            Report(("server", "executor"), ("workload", "100c-64B")) with { MessagesPerSecond = 90_000, ServerCpuUsPerMessage = 8, ClientCpuUsPerMessage = 7.25 },
            Report(("server", "executor-aot"), ("workload", "100c-64B")) with { MessagesPerSecond = 96_000, ServerCpuUsPerMessage = 7, ClientCpuUsPerMessage = 7 },
            Report(("server", "workers-aot"), ("workload", "100c-64B")) with { MessagesPerSecond = 81_000, ServerCpuUsPerMessage = 9 },
        ]);

        string markdown = table.ToMarkdown();
        Assert.Contains("| 100 connections, 64 B ping-pong | msg/s | 100,000 | 81,000 | 90,000 | 96,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 100 connections, 64 B ping-pong | server µs CPU/msg | 6.00 | 9.00 | 8.00 | 7.00 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 100 connections, 64 B ping-pong | echo-load µs CPU/msg | 7.50 | – | 7.25 | 7.00 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-aot msg/s ≥ 0.95× c-epoll (100 connections, 64 B ping-pong) | 96,000 | 100,000 | 0.96× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| workers-aot msg/s ≥ 0.85× c-epoll (100 connections, 64 B ping-pong) | 81,000 | 100,000 | 0.81× | **no** |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_io_uring_executor_faces_both_C_servers_and_the_AOT_executor_half_of_Go_idle()
    {
        LoadReport Run(string server, string workload) => Report(("server", server), ("workload", workload));
        var table = new BenchTable(
        [
            Run("executor-uring", "1c-64B") with { LatencyUs = Latency(p99: 40) },
            Run("c-epoll", "1c-64B") with { LatencyUs = Latency(p99: 50) },
            Run("executor-uring", "100c-64B") with { MessagesPerSecond = 98_000, ServerCpuUsPerMessage = 5 },
            Run("c-uring", "100c-64B") with { MessagesPerSecond = 100_000, ServerCpuUsPerMessage = 5 },
            Run("c-epoll", "100c-64B") with { MessagesPerSecond = 95_000, ServerCpuUsPerMessage = 6 },
            Run("executor-uring", "1000c-1KiB") with { MessagesPerSecond = 50_000 },
            Run("c-epoll", "1000c-1KiB") with { MessagesPerSecond = 60_000 },
            Run("executor-uring", "10k-active") with { Connections = 10_000, MessagesPerSecond = 70_000, LatencyUs = Latency(p99: 300_000) },
            Run("c-epoll", "10k-active") with { Connections = 10_000, MessagesPerSecond = 72_000, LatencyUs = Latency(p99: 200_000) },
            Run("go", "10k-idle") with { ServerPeakRssMiB = 100 },
            Run("executor-aot", "10k-idle") with { ServerPeakRssMiB = 46 },
        ]);

        string markdown = table.ToMarkdown();

        // The C servers first, epoll then io_uring; the io_uring executor after the other executors.
        Assert.Contains("| workload | measure | c-epoll | c-uring | go | executor-aot | executor-uring |", markdown, StringComparison.Ordinal);
        Assert.Contains("| active connections, 64 B ping-pong (10,000; 2,000 with --quick) | msg/s | 72,000 | – | – | – | 70,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| active connections, 64 B ping-pong (10,000; 2,000 with --quick) | p99 µs | 200,000 | – | – | – | 300,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-uring msg/s ≥ 1× c-epoll (100 connections, 64 B ping-pong) | 98,000 | 95,000 | 1.03× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-uring msg/s ≥ 0.95× c-uring (100 connections, 64 B ping-pong) | 98,000 | 100,000 | 0.98× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-uring server µs CPU/msg ≤ 0.9× c-epoll (100 connections, 64 B ping-pong) | 5.00 | 6.00 | 0.83× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-uring msg/s ≥ 1× c-epoll (1,000 connections, 1 KiB ping-pong (--workers 1000)) | 50,000 | 60,000 | 0.83× | **no** |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-uring msg/s ≥ 1× c-epoll (active connections, 64 B ping-pong (10,000; 2,000 with --quick)) | 70,000 | 72,000 | 0.97× | **no** |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-uring p99 µs ≤ 1.2× c-epoll (active connections, 64 B ping-pong (10,000; 2,000 with --quick)) | 300,000 | 200,000 | 1.50× | **no** |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-uring p99 µs ≤ 1× c-epoll (1 connection, 64 B ping-pong) | 40.0 | 50.0 | 0.80× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-aot peak RSS MiB ≤ 0.5× go (idle connections held (10,000; 2,000 with --quick)) | 46.0 | 100.0 | 0.46× | yes |", markdown, StringComparison.Ordinal);
        Assert.Contains("| executor-aot peak RSS MiB ≤ 0.7× go (idle connections held (10,000; 2,000 with --quick)) | 46.0 | 100.0 | 0.46× | yes |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_with_errors_is_flagged_in_the_table()
    {
        var table = new BenchTable(
        [
            Report(("server", "workers"), ("workload", "100c-64B")) with { Errors = new Dictionary<string, long> { ["reset"] = 3 } },
        ]);

        string markdown = table.ToMarkdown();
        Assert.Contains("⚠", markdown, StringComparison.Ordinal);
        Assert.Contains("workers 100c-64B: reset 3", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_reference_server_the_targets_are_left_out()
    {
        var table = new BenchTable(
        [
            Report(("server", "workers"), ("workload", "100c-64B")) with { MessagesPerSecond = 85_000 },
            Report(("server", "executor"), ("workload", "100c-64B")) with { MessagesPerSecond = 90_000 },
        ]);

        string markdown = table.ToMarkdown();

        Assert.Contains("| 100 connections, 64 B ping-pong | msg/s | 85,000 | 90,000 |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("| target |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("not measured", markdown, StringComparison.Ordinal);
        Assert.Contains("No reference server ran", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_with_unanswered_connections_is_flagged_in_the_table()
    {
        var table = new BenchTable(
        [
            Report(("server", "c-epoll"), ("workload", "1000c-1KiB")) with { Connections = 1000 },
            Report(("server", "py-queue"), ("workload", "1000c-1KiB")) with { Connections = 1000, ConnectionsAnswered = 128, ConnectionsUnanswered = 872 },
        ]);

        string markdown = table.ToMarkdown();

        Assert.Contains("py-queue 1000c-1KiB: unanswered 872 of 1,000 connections", markdown, StringComparison.Ordinal);
        Assert.Contains(" ⚠ |", markdown, StringComparison.Ordinal);
    }

    internal static LatencyReport Latency(double p99) => new(1000, p99 / 2, p99 * 0.8, p99, p99 * 1.5, p99 * 3, p99 / 2);

    internal static LoadReport Report(params (string Key, string Value)[] labels) => new()
    {
        Labels = labels.ToDictionary(l => l.Key, l => l.Value),
        Mode = LoadMode.Echo,
        Target = "127.0.0.1:7007",
        Connections = 100,
        MessageSize = 64,
        Pipeline = 1,
        Seconds = 5,
        Messages = 1000,
        Bytes = 64_000,
        MessagesPerSecond = 200,
        MiBPerSecond = 0.01,
        LatencyUs = Latency(100),
        Errors = new Dictionary<string, long>(),
        Interrupted = false,
    };
}
