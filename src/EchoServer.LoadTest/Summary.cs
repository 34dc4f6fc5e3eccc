using System.Globalization;
using System.Text;
using EchoServer.CommandLine;

namespace EchoServer.LoadTest;

/// <summary>
/// Turns a folder of JSON reports into a Markdown table and charts. A report's labels name its series
/// (e.g. pool and workers); its message size and connection count name its scenario.
/// </summary>
internal sealed class Summary
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private readonly IReadOnlyList<LoadReport> _reports;

    public Summary(IEnumerable<LoadReport> reports) => _reports = reports.ToList();

    public static Summary Load(string directory) =>
        new(Directory.EnumerateFiles(directory, "*.json")
            .Order(StringComparer.Ordinal)
            .Select(f => LoadReport.FromJson(File.ReadAllText(f)))
            .OfType<LoadReport>());

    public IReadOnlyList<LoadReport> Reports => _reports;

    public IReadOnlyList<string> Series => _reports.Select(SeriesOf).Distinct().ToList();

    public IReadOnlyList<string> Scenarios => _reports.OrderBy(r => r.MessageSize).ThenBy(r => r.Connections).Select(ScenarioOf).Distinct().ToList();

    public static string SeriesOf(LoadReport r) => r.Labels.Count == 0 ? r.Target : string.Join(" ", r.Labels.Select(l => $"{l.Key}={l.Value}"));

    public static string ScenarioOf(LoadReport r) => $"{(r.Mode == LoadMode.Connect ? "connect, " : string.Empty)}{(r.MessageSize < 1024 ? $"{r.MessageSize} B" : new ByteSize(r.MessageSize).ToString())} × {r.Connections} {(r.IsUdp ? "UDP sockets" : r.Tls is null ? "conn" : "TLS conn")}{(r.IsUdp && r.TargetRate is { } rate ? string.Create(C, $" at {rate:N0}/s") : string.Empty)}";

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("| series | scenario | msg/s (UDP: datagrams/s) | MiB/s | p50 µs | p99 µs | p99.9 µs | max µs | answered | UDP loss | server cores | server µs CPU/msg | errors |");
        md.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var scenario in Scenarios)
        {
            foreach (var r in _reports.Where(r => ScenarioOf(r) == scenario))
            {
                string errors = r.Problems();
                md.AppendLine(C, $"| {SeriesOf(r)} | {scenario} | {r.MessagesPerSecond:N0} | {r.MiBPerSecond:N1} | {r.LatencyUs.P50:N1} | {r.LatencyUs.P99:N1} | {r.LatencyUs.P999:N1} | {r.LatencyUs.Max:N1} | {r.ConnectionsAnswered}/{r.Connections} | {(r.LossPercent is { } loss ? string.Create(C, $"{loss:0.###}%") : "-")} | {Opt(r.ServerCores, "F2")} | {Opt(r.ServerCpuUsPerMessage, "F1")} | {errors} |");
            }
        }

        return md.ToString();
    }

    /// <summary>Throughput and latency charts: a colour per series, a group of bars and a latency panel per scenario.</summary>
    public Charts Charts() => new(_reports.OrderBy(r => r.MessageSize).ThenBy(r => r.Connections), SeriesOf, ScenarioOf);

    private static string Opt(double? value, string format) => value?.ToString(format, C) ?? "-";
}
