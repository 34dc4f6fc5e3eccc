using System.Globalization;
using System.Text;

namespace EchoServer.LoadTest;

/// <summary>
/// The benchmark's verdict: one table of absolute figures (server × workload, each with the server's CPU),
/// then each target as a ratio of the project's pools to a reference server, measured in the same run.
/// Reports are matched by their labels: <c>server</c> and <c>workload</c>; with several rounds of each (label
/// <c>round</c>), every figure and target is the median over the rounds, and a failure in any round still shows.
/// </summary>
internal sealed class BenchTable(IReadOnlyList<LoadReport> reports)
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private static readonly (string Id, string Title, string Measure, Func<LoadReport, double?> Value, bool HigherIsBetter)[] Workloads =
    [
        ("1c-64B", "1 connection, 64 B ping-pong", "p99 µs", r => r.LatencyUs.P99, false),
        ("100c-64B", "100 connections, 64 B ping-pong", "msg/s", r => r.MessagesPerSecond, true),
        ("100c-64B", "100 connections, 64 B ping-pong", "server µs CPU/msg", r => r.ServerCpuUsPerMessage, false),
        ("100c-64B", "100 connections, 64 B ping-pong", "echo-load µs CPU/msg", r => r.ClientCpuUsPerMessage, false),
        ("tls-100c-64B", "TLS: 100 connections, 64 B ping-pong", "msg/s", r => r.MessagesPerSecond, true),
        ("tls-100c-64B", "TLS: 100 connections, 64 B ping-pong", "server µs CPU/msg", r => r.ServerCpuUsPerMessage, false),
        ("tls-100c-64B", "TLS: 100 connections, 64 B ping-pong", "echo-load µs CPU/msg", r => r.ClientCpuUsPerMessage, false),
        ("100c-16KiB", "100 connections, 16 KiB ping-pong", "MiB/s", r => r.MiBPerSecond, true),
        ("tls-100c-16KiB", "TLS: 100 connections, 16 KiB ping-pong", "MiB/s", r => r.MiBPerSecond, true),
        ("1000c-1KiB", "1,000 connections, 1 KiB ping-pong (--workers 1000)", "msg/s", r => r.MessagesPerSecond, true),
        ("10k-active", "active connections, 64 B ping-pong (10,000; 2,000 with --quick)", "msg/s", r => r.MessagesPerSecond, true),
        ("10k-active", "active connections, 64 B ping-pong (10,000; 2,000 with --quick)", "p99 µs", r => r.LatencyUs.P99, false),
        ("connect-50c", "connect, echo 64 B, close; 50 at a time (logging on)", "conn/s", r => r.ConnectionsPerSecond, true),
        ("tls-connect-50c", "TLS: connect, handshake, echo 64 B, close; 50 at a time (logging on)", "handshakes/s", r => r.ConnectionsPerSecond, true),
        ("10k-idle", "idle connections held (10,000; 2,000 with --quick)", "peak RSS MiB", r => r.ServerPeakRssMiB, false),
        .. Udp("udp-1c-64B", "UDP, 1 socket, 64 B ping-pong"),
        .. Udp("udp-100c-64B", "UDP, 100 sockets, 64 B ping-pong"),
        .. Udp("udp-rate-20k", "UDP, 10 sockets, 64 B, open loop at 20,000 datagrams/s"),
    ];

    // (workload, measure, our server, peer, ratio bound, "≤" or "≥").
    private static readonly (string Workload, string Measure, string Ours, string Peer, double Bound, bool AtMost)[] Targets =
    [
        ("1c-64B", "p99 µs", "executor", "kestrel", 1.0, true),
        ("1c-64B", "p99 µs", "workers", "c-epoll", 1.0, true),
        ("100c-64B", "msg/s", "executor", "c-epoll", 0.95, false),
        ("100c-64B", "msg/s", "workers", "c-epoll", 0.85, false),
        ("100c-16KiB", "MiB/s", "executor", "c-epoll", 0.95, false),
        ("100c-16KiB", "MiB/s", "workers", "c-epoll", 0.95, false),
        ("1000c-1KiB", "msg/s", "executor", "c-epoll", 0.95, false),
        ("1000c-1KiB", "msg/s", "workers", "kestrel", 1.0, false),
        ("connect-50c", "conn/s", "best pool", "c-epoll", 0.9, false),
        ("10k-idle", "peak RSS MiB", "executor", "go", 0.7, true),
        ("100c-64B", "server µs CPU/msg", "executor", "c-epoll", 1.5, true),
        ("100c-64B", "server µs CPU/msg", "workers", "c-epoll", 1.5, true),

        // The executor on io_uring against the C servers, epoll and io_uring alike; the AOT build's idle memory against Go's.
        ("100c-64B", "msg/s", "executor-uring", "c-epoll", 1.0, false),
        ("100c-64B", "msg/s", "executor-uring", "c-uring", 0.95, false),
        ("1000c-1KiB", "msg/s", "executor-uring", "c-epoll", 1.0, false),
        ("10k-active", "msg/s", "executor-uring", "c-epoll", 1.0, false),
        ("10k-active", "p99 µs", "executor-uring", "c-epoll", 1.2, true),
        ("100c-64B", "server µs CPU/msg", "executor-uring", "c-epoll", 0.9, true),
        ("1c-64B", "p99 µs", "executor-uring", "c-epoll", 1.0, true),
        ("10k-idle", "peak RSS MiB", "executor-aot", "go", 0.5, true),
    ];

    private static readonly string[] ServerOrder = ["c-epoll", "c-uring", "c-udp", "kestrel", "go", "py-executor", "py-queue", "workers", "workers-aot", "executor", "executor-aot", "executor-threadpool", "executor-uring"];

    private static readonly string[] Pools = ["workers", "workers-aot", "executor", "executor-aot", "executor-threadpool", "executor-uring"];

    /// <summary>A UDP workload's rows: datagrams per second, p99 and loss (lost datagrams as a percentage of those sent).</summary>
    private static (string, string, string, Func<LoadReport, double?>, bool)[] Udp(string id, string title) =>
    [
        (id, title, "datagrams/s", r => r.MessagesPerSecond, true),
        (id, title, "p99 µs", r => r.LatencyUs.P99, false),
        (id, title, "loss %", r => r.LossPercent, false),
    ];

    public static BenchTable Load(string directory) => new(Summary.Load(directory).Reports);

    /// <summary>Throughput and latency charts: a colour per server, a group of bars and a latency panel per workload.</summary>
    /// <remarks>With several rounds, the first round of each server and workload: a latency line is one run's distribution.</remarks>
    public Charts Charts() => new(
        reports.Where(r => Server(r) is not null && Workload(r) is not null)
            .GroupBy(r => (Server(r), Workload(r)))
            .Select(g => g.MinBy(Round)!)
            .OrderBy(r => Array.FindIndex(Workloads, w => w.Id == Workload(r)) is var i && i < 0 ? int.MaxValue : i)
            .ThenBy(r => Array.IndexOf(ServerOrder, Server(r)) is var i && i < 0 ? int.MaxValue : i),
        r => Server(r)!,
        r => Workloads.FirstOrDefault(w => w.Id == Workload(r)).Title ?? Workload(r)!);

    public string ToMarkdown()
    {
        var servers = reports.Select(r => r.Labels.GetValueOrDefault("server")).OfType<string>().Distinct()
            .OrderBy(s => Array.IndexOf(ServerOrder, s) is var i && i < 0 ? int.MaxValue : i).ThenBy(s => s, StringComparer.Ordinal).ToList();
        var md = new StringBuilder();
        md.AppendLine(C, $"| workload | measure | {string.Join(" | ", servers)} |");
        md.AppendLine(C, $"|---|---|{string.Concat(servers.Select(_ => "--:|"))}");
        foreach (var (id, title, measure, value, _) in Workloads)
        {
            if (!reports.Any(r => Workload(r) == id))
            {
                continue;
            }

            var cells = servers.Select(s => Runs(s, id) is { Count: > 0 } runs && Median(runs, value) is { } v
                ? string.Create(C, $"{Format(v)}{(Median(runs, r => r.ServerCores) is { } cores && !measure.EndsWith("CPU/msg", StringComparison.Ordinal) && measure != "loss %" ? $" ({cores:F2} cores)" : string.Empty)}{(runs.Any(r => r.ExitCode != LoadExitCodes.Ok) ? " ⚠" : string.Empty)}")
                : "–");
            md.AppendLine(C, $"| {title} | {measure} | {string.Join(" | ", cells)} |");
        }

        AppendRounds(md);
        if (reports.Any(r => Targets.Any(t => t.Peer == Server(r))))
        {
            AppendTargets(md);
        }
        else
        {
            md.AppendLine();
            md.AppendLine("No reference server ran: the targets, ratios to one, are left out.");
        }

        var faulty = reports.Where(r => r.ExitCode != LoadExitCodes.Ok).ToList();
        md.AppendLine();
        md.AppendLine(faulty.Count == 0
            ? "Every run: zero errors, zero mismatched bytes, every connection answered, no datagram lost."
            : "Runs with errors, unanswered connections or lost datagrams (⚠): " + string.Join("; ", faulty.Select(r => $"{r.Labels.GetValueOrDefault("server")} {Workload(r)}{(Rounds().Max > 1 ? string.Create(C, $" round {Round(r)}") : string.Empty)}: {r.Problems()}")));
        return md.ToString();
    }

    /// <summary>Each target as a ratio of one of the project's pools to its reference server.</summary>
    private void AppendTargets(StringBuilder md)
    {
        md.AppendLine();
        md.AppendLine("| target | project | reference | ratio | met |");
        md.AppendLine("|---|--:|--:|--:|:-:|");
        // The executor's targets are checked for each of its completion modes that ran, and each pool's for its Native AOT build.
        var targets = Targets.SelectMany(t => t.Ours switch
            {
                "executor" => [t, t with { Ours = "executor-threadpool" }, t with { Ours = "executor-aot" }],
                "workers" => [t, t with { Ours = "workers-aot" }],
                _ => new[] { t },
            })
            .Where(t => t.Ours is "best pool" || reports.Any(r => r.Labels.GetValueOrDefault("server") == t.Ours));
        foreach (var (workload, measure, ours, peer, bound, atMost) in targets)
        {
            var get = Workloads.First(w => w.Id == workload && w.Measure == measure).Value;
            double? mine = ours == "best pool"
                ? Pools.Select(s => Median(Runs(s, workload), get)).Max()
                : Median(Runs(ours, workload), get);
            double? theirs = Median(Runs(peer, workload), get);
            string label = string.Create(C, $"{ours} {measure} {(atMost ? "≤" : "≥")} {bound:0.##}× {peer} ({Workloads.First(w => w.Id == workload).Title})");
            if (mine is not { } m || theirs is not { } t || t == 0)
            {
                md.AppendLine(C, $"| {label} | {Format(mine)} | {Format(theirs)} | – | not measured |");
                continue;
            }

            double ratio = m / t;
            bool met = atMost ? ratio <= bound : ratio >= bound;
            md.AppendLine(C, $"| {label} | {Format(m)} | {Format(t)} | {ratio:F2}× | {(met ? "yes" : "**no**")} |");
        }
    }

    private static string? Workload(LoadReport r) => r.Labels.GetValueOrDefault("workload");

    private static string? Server(LoadReport r) => r.Labels.GetValueOrDefault("server");

    private static string Format(double? v) => v switch
    {
        null => "–",
        >= 1000 => v.Value.ToString("N0", C),
        >= 10 => v.Value.ToString("F1", C),
        _ => v.Value.ToString("F2", C),
    };

    /// <summary>The median of the figures that are there: the middle one, or the mean of the two middle ones.</summary>
    internal static double? Median(IEnumerable<LoadReport> runs, Func<LoadReport, double?> value)
    {
        var sorted = runs.Select(value).OfType<double>().Order().ToList();
        int middle = sorted.Count / 2;
        return sorted.Count == 0 ? null : sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>The round a report belongs to (label <c>round</c>); a report without one is the only round.</summary>
    private static int Round(LoadReport r) =>
        int.TryParse(r.Labels.GetValueOrDefault("round"), NumberStyles.None, C, out int round) ? round : 1;

    /// <summary>Says how many rounds each figure is the median of, when there was more than one.</summary>
    private void AppendRounds(StringBuilder md)
    {
        var (min, max) = Rounds();
        if (max > 1)
        {
            md.AppendLine();
            md.AppendLine(C, $"Each figure: the median of {(min == max ? $"{max}" : $"{min} to {max}")} rounds.");
        }
    }

    /// <summary>The fewest and the most runs of one server in one workload.</summary>
    private (int Min, int Max) Rounds()
    {
        var counts = reports.Where(r => Server(r) is not null && Workload(r) is not null)
            .CountBy(r => (Server(r), Workload(r))).Select(c => c.Value).DefaultIfEmpty(1).ToList();
        return (counts.Min(), counts.Max());
    }

    private List<LoadReport> Runs(string server, string workload) =>
        reports.Where(r => Server(r) == server && Workload(r) == workload).ToList();
}
