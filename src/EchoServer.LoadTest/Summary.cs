using System.Globalization;
using System.Text;
using EchoServer.CommandLine;

namespace EchoServer.LoadTest;

/// <summary>
/// Turns a folder of JSON reports into a Markdown table and an SVG chart. A report's labels name its series
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

    public static string ScenarioOf(LoadReport r) => $"{(r.MessageSize < 1024 ? $"{r.MessageSize} B" : new ByteSize(r.MessageSize).ToString())} × {r.Connections} conn";

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("| series | scenario | msg/s | MiB/s | p50 µs | p99 µs | p99.9 µs | max µs | answered | server cores | server µs CPU/msg | errors |");
        md.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (var scenario in Scenarios)
        {
            foreach (var r in _reports.Where(r => ScenarioOf(r) == scenario))
            {
                string errors = r.Errors.Count == 0 ? "none" : string.Join(", ", r.Errors.Select(e => $"{e.Key} {e.Value}"));
                md.AppendLine(C, $"| {SeriesOf(r)} | {scenario} | {r.MessagesPerSecond:N0} | {r.MiBPerSecond:N1} | {r.LatencyUs.P50:N1} | {r.LatencyUs.P99:N1} | {r.LatencyUs.P999:N1} | {r.LatencyUs.Max:N1} | {r.ConnectionsAnswered}/{r.Connections} | {Opt(r.ServerCores, "F2")} | {Opt(r.ServerCpuUsPerMessage, "F1")} | {errors} |");
            }
        }

        return md.ToString();
    }

    /// <summary>Two panels, throughput and p99 latency, each on a log scale: one group of bars per scenario, one bar per series.</summary>
    public string ToSvg(string title)
    {
        var series = Series;
        var scenarios = Scenarios;
        const int barWidth = 16;
        const int groupGap = 28;
        const int left = 80;
        const int panelHeight = 240;
        int groupWidth = Math.Max((series.Count * barWidth) + groupGap, 84);
        int width = left + (scenarios.Count * groupWidth) + 40;
        int legendHeight = 24 + (series.Count * 18);
        int height = legendHeight + (2 * (panelHeight + 90)) + 20;
        string[] palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

        var svg = new StringBuilder();
        svg.AppendLine(C, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(C, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.AppendLine(C, $"<text x=\"{left}\" y=\"18\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>");
        for (int s = 0; s < series.Count; s++)
        {
            int y = 30 + (s * 18);
            svg.AppendLine(C, $"<rect x=\"{left}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{palette[s % palette.Length]}\"/>");
            svg.AppendLine(C, $"<text x=\"{left + 18}\" y=\"{y + 10}\">{Escape(series[s])}</text>");
        }

        Panel(svg, "Throughput, messages/s (log scale; higher is better)", legendHeight + 20, r => r.MessagesPerSecond);
        Panel(svg, "p99 latency, µs (log scale; lower is better)", legendHeight + panelHeight + 110, r => r.LatencyUs.P99);
        svg.AppendLine("</svg>");
        return svg.ToString();

        void Panel(StringBuilder svg, string caption, int top, Func<LoadReport, double> value)
        {
            var values = _reports.Select(value).Where(v => v > 0).ToList();
            double lo = values.Count == 0 ? 1 : Math.Pow(10, Math.Floor(Math.Log10(values.Min())));
            double hi = values.Count == 0 ? 10 : Math.Pow(10, Math.Ceiling(Math.Log10(values.Max())));
            if (hi <= lo)
            {
                hi = lo * 10;
            }

            int baseY = top + 20 + panelHeight;
            double Y(double v) => baseY - (panelHeight * (Math.Log10(Math.Max(v, lo)) - Math.Log10(lo)) / (Math.Log10(hi) - Math.Log10(lo)));

            svg.AppendLine(C, $"<text x=\"{left}\" y=\"{top + 10}\" font-weight=\"bold\">{Escape(caption)}</text>");
            for (double tick = lo; tick <= hi * 1.001; tick *= 10)
            {
                double y = Y(tick);
                svg.AppendLine(C, $"<line x1=\"{left}\" x2=\"{width - 20}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>");
                svg.AppendLine(C, $"<text x=\"{left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Compact(tick)}</text>");
            }

            for (int g = 0; g < scenarios.Count; g++)
            {
                int x0 = left + 10 + (g * groupWidth);
                for (int s = 0; s < series.Count; s++)
                {
                    var report = _reports.FirstOrDefault(r => ScenarioOf(r) == scenarios[g] && SeriesOf(r) == series[s]);
                    if (report is null || value(report) <= 0)
                    {
                        continue;
                    }

                    double v = value(report);
                    double y = Y(v);
                    svg.AppendLine(C, $"<rect x=\"{x0 + (s * barWidth)}\" y=\"{y:F1}\" width=\"{barWidth - 2}\" height=\"{baseY - y:F1}\" fill=\"{palette[s % palette.Length]}\"><title>{Escape(series[s])}, {Escape(scenarios[g])}: {Compact(v)}</title></rect>");
                }

                // "64 B × 100 conn" on two lines: the size, then the connections.
                var parts = scenarios[g].Split(" × ");
                int cx = x0 + ((series.Count * barWidth) / 2);
                svg.AppendLine(C, $"<text x=\"{cx}\" y=\"{baseY + 15}\" text-anchor=\"middle\" font-size=\"11\">{Escape(parts[0])}</text>");
                svg.AppendLine(C, $"<text x=\"{cx}\" y=\"{baseY + 29}\" text-anchor=\"middle\" font-size=\"11\">{Escape(parts.Length > 1 ? parts[1] : string.Empty)}</text>");
            }

            svg.AppendLine(C, $"<line x1=\"{left}\" x2=\"{width - 20}\" y1=\"{baseY}\" y2=\"{baseY}\" stroke=\"#333\"/>");
        }
    }

    private static string Opt(double? value, string format) => value?.ToString(format, C) ?? "-";

    private static string Compact(double v) => v switch
    {
        >= 1e6 => (v / 1e6).ToString("0.#", C) + "M",
        >= 1e3 => (v / 1e3).ToString("0.#", C) + "k",
        _ => v.ToString("0.#", C),
    };

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
