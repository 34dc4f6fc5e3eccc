using System.Buffers.Binary;
using System.Xml.Linq;
using EchoServer.LoadTest;
using EchoServer.TestSupport;
using static EchoServer.Tests.LoadTest.ReportTableTests;

namespace EchoServer.Tests.LoadTest;

/// <summary>What the throughput and latency charts show, from hand-made reports, and the files summarize and compare write.</summary>
public sealed class ChartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("echo-charts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Throughput_is_grouped_by_scenario_with_a_panel_per_unit_and_notes_where_connections_went_unanswered()
    {
        var charts = new Summary(SampleReports()).Charts();

        var panels = charts.ThroughputPanels();

        Assert.Equal(["messages/s", "MiB/s"], panels.Select(p => p.Unit));
        var small = panels[0].Groups;
        Assert.Equal(["64 B × 100 conn", "64 B × 1000 conn"], small.Select(g => g.Scenario));
        Assert.Equal([new SeriesValue("pool=executor", 60_000), new SeriesValue("pool=workers", 50_000)], small[0].Bars);
        Assert.Empty(small[0].Notes);
        Assert.Equal(["answered 128 of 1,000"], small[1].Notes); // both pools alike: said once
        var large = Assert.Single(panels[1].Groups);
        Assert.Equal("16KiB × 1000 conn", large.Scenario);
        Assert.Equal([850.5, 700.25], large.Bars.Select(b => b.Value));
        Assert.Equal(["pool=workers: answered 128 of 1,000"], large.Notes); // only one pool left clients waiting
    }

    [Fact]
    public void Latency_has_a_panel_per_scenario_and_a_line_per_series_from_the_distribution()
    {
        var charts = new Summary(SampleReports()).Charts();

        var panels = charts.LatencyPanels();

        Assert.Equal(["64 B × 100 conn", "64 B × 1000 conn", "16KiB × 1000 conn"], panels.Select(p => p.Scenario));
        Assert.Equal(["pool=executor", "pool=workers"], panels[0].Lines.Select(l => l.Series));
        Assert.Equal([new LatencyPoint(0, 10), new LatencyPoint(90, 40), new LatencyPoint(99.9, 900)], panels[0].Lines[0].Points);
        // A report written before the distribution was recorded still gives its four percentiles.
        Assert.Equal([50, 90, 99, 99.9], panels[0].Lines[1].Points.Select(p => p.Percentile));
    }

    [Theory]
    [InlineData(812, "812")]
    [InlineData(1_268.4, "1,268")]
    [InlineData(93_743, "93.7k")]
    [InlineData(1_250_000, "1.25M")]
    [InlineData(12.34, "12.3")]
    public void Bar_labels_are_compact(double value, string label) => Assert.Equal(label, Charts.Compact(value));

    [Theory]
    [InlineData(50, 0.30103, "50%")]
    [InlineData(90, 1, "90%")]
    [InlineData(99.9, 3, "99.9%")]
    [InlineData(99.999, 5, "99.999%")]
    public void The_percentile_axis_counts_nines(double percentile, double nines, string label)
    {
        Assert.Equal(nines, LatencyReport.NinesOf(percentile), 4);
        Assert.Equal(percentile, LatencyReport.PercentileOf(nines), 4);
        Assert.Equal(label, Charts.PercentLabel(percentile));
    }

    [Fact]
    public void Write_renders_both_charts_as_png_and_svg()
    {
        var written = new Summary(SampleReports()).Charts().Write(_dir, "test run");

        Assert.Equal(["throughput.png", "throughput.svg", "latency.png", "latency.svg"], written.Select(Path.GetFileName));
        var (width, height) = PngSize(Path.Combine(_dir, "latency.png"));
        Assert.Equal(3 * 560, width); // three scenarios: one row of three panels
        Assert.InRange(height, 44 + 400 + 17, 44 + 400 + (3 * 17) + 10); // under the title, above a caption of a line or more
        var svg = XDocument.Load(Path.Combine(_dir, "throughput.svg"));
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        string text = string.Concat(svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value + "\n"));
        Assert.Contains("test run: throughput (higher is better)", text, StringComparison.Ordinal);
        Assert.Contains("answered 128 of 1,000", text, StringComparison.Ordinal);
        Assert.Contains("60k", text, StringComparison.Ordinal); // a value on its bar
        Assert.Contains("99.9%", File.ReadAllText(Path.Combine(_dir, "latency.svg")), StringComparison.Ordinal);
        Assert.Contains("Each bar: one run's echoed messages", text, StringComparison.Ordinal); // the line saying what the chart shows
    }

    [Fact]
    public void A_latency_line_that_covers_only_the_answered_clients_says_so_on_its_panel()
    {
        var panels = new Summary(SampleReports()).Charts().LatencyPanels();

        Assert.Equal(["pool=executor", "pool=workers"], panels[0].Lines.Select(l => l.Legend)); // every client measured
        Assert.Equal(["pool=workers: 128 of 1,000 clients measured", "pool=executor: 128 of 1,000 clients measured"], panels[1].Lines.Select(l => l.Legend));
        Assert.Equal(["pool=executor", "pool=workers: 128 of 1,000 clients measured"], panels[2].Lines.Select(l => l.Legend));

        new Summary(SampleReports()).Charts().Write(_dir, "t");
        Assert.Contains("pool=workers: 128 of 1,000 clients measured", SvgText("latency.svg"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_server_has_the_same_colour_in_every_chart_of_every_script()
    {
        // The load test labels pools, the benchmark servers; each chart has its own set and order of series.
        var loadTest = new Summary([Report(("pool", "executor"), ("workers", "128")), Report(("pool", "workers"), ("workers", "128")), Report(("pool", "workers"), ("workers", "1000"))]).Charts();
        var bench = new BenchTable([Report(("server", "c-epoll"), ("workload", "100c-64B")), Report(("server", "workers"), ("workload", "100c-64B")), Report(("server", "executor"), ("workload", "100c-64B"))]).Charts();
        var idle = new Summary([Report(("pool", "workers")) with { Mode = LoadMode.Hold, ServerPeakRssMiB = 90 }, Report(("pool", "executor")) with { Mode = LoadMode.Hold, ServerPeakRssMiB = 40 }]).Charts();

        Assert.Equal(bench.ColourOf("executor"), loadTest.ColourOf("pool=executor workers=128"));
        Assert.Equal(bench.ColourOf("executor"), idle.ColourOf("pool=executor"));
        Assert.Equal(bench.ColourOf("workers"), loadTest.ColourOf("pool=workers workers=128"));
        Assert.Equal(bench.ColourOf("workers"), idle.ColourOf("pool=workers"));
        Assert.NotEqual(bench.ColourOf("workers"), bench.ColourOf("executor"));
        Assert.NotEqual(bench.ColourOf("workers"), bench.ColourOf("c-epoll"));
        // A second configuration of the same pool in one chart: a lighter shade of its colour, not another pool's.
        Assert.NotEqual(loadTest.ColourOf("pool=workers workers=128"), loadTest.ColourOf("pool=workers workers=1000"));
    }

    [Fact]
    public void Idle_memory_runs_are_charted_as_the_server_s_peak_memory()
    {
        var charts = new Summary(
        [
            Report(("pool", "workers")) with { Mode = LoadMode.Hold, Connections = 10_000, ConnectionsHeld = 10_000, ServerPeakRssMiB = 180.5 },
            Report(("pool", "executor")) with { Mode = LoadMode.Hold, Connections = 10_000, ConnectionsHeld = 9_000, ServerPeakRssMiB = 60.25 },
        ]).Charts();

        var memory = charts.MemoryPanel()!;
        var group = Assert.Single(memory.Groups);
        Assert.Equal([new SeriesValue("pool=workers", 180.5), new SeriesValue("pool=executor", 60.25)], group.Bars);
        Assert.Equal(["pool=executor: held 9,000 of 10,000"], group.Notes);

        var written = charts.Write(_dir, "idle");
        Assert.Equal(["memory.png", "memory.svg"], written.Select(Path.GetFileName));
        string text = SvgText("memory.svg");
        Assert.Contains("Peak resident memory, MiB", text, StringComparison.Ordinal);
        Assert.Contains("Each bar: the server's peak resident memory", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_workload_names_are_broken_onto_lines_under_their_bars()
    {
        var table = new BenchTable([Report(("server", "workers"), ("workload", "1000c-1KiB")), Report(("server", "c-epoll"), ("workload", "1000c-1KiB"))]);

        table.Charts().Write(_dir, "bench");

        var lines = XDocument.Load(Path.Combine(_dir, "throughput.svg")).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()).ToList();
        Assert.Contains("1,000 connections, 1 KiB", lines);
        Assert.Contains("ping-pong (--workers 1000)", lines);
        Assert.Equal(["c-epoll", "workers"], table.Charts().Series); // the reference servers first, as in the table
    }

    [Fact]
    public async Task Summarize_and_compare_write_their_table_and_both_charts()
    {
        foreach (var (report, i) in SampleReports().Select((r, i) => (r, i)))
        {
            var labelled = report with { Labels = new Dictionary<string, string>(report.Labels) { ["server"] = report.Labels["pool"], ["workload"] = i < 2 ? "100c-64B" : $"w{i}" } };
            await File.WriteAllTextAsync(Path.Combine(_dir, $"run-{i}.json"), labelled.ToJson());
        }

        foreach (var command in new[] { "summarize", "compare" })
        {
            using var tool = ServerProcess.StartTool("echo-load.dll", command, _dir, "--title", "t");
            Assert.Equal(0, await tool.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        foreach (var file in new[] { "summary.md", "bench.md", "throughput.png", "throughput.svg", "latency.png", "latency.svg" })
        {
            Assert.True(File.Exists(Path.Combine(_dir, file)), $"{file} is missing");
        }
    }

    private static LoadReport[] SampleReports() =>
    [
        Report(("pool", "workers")) with { MessagesPerSecond = 50_000, Connections = 1000, ConnectionsAnswered = 128 },
        Report(("pool", "executor")) with
        {
            MessagesPerSecond = 60_000,
            ConnectionsAnswered = 100,
            LatencyUs = Latency(p99: 90) with { Percentiles = [new(0, 10), new(90, 40), new(99.9, 900)] },
        },
        Report(("pool", "workers")) with { MessagesPerSecond = 50_000, ConnectionsAnswered = 100 },
        Report(("pool", "executor")) with { MessagesPerSecond = 60_000, Connections = 1000, ConnectionsAnswered = 128 },
        Report(("pool", "executor")) with { MessageSize = 16384, Connections = 1000, ConnectionsAnswered = 1000, MiBPerSecond = 850.5 },
        Report(("pool", "workers")) with { MessageSize = 16384, Connections = 1000, ConnectionsAnswered = 128, MiBPerSecond = 700.25 },
    ];

    private string SvgText(string file) =>
        string.Concat(XDocument.Load(Path.Combine(_dir, file)).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value + "\n"));

    private static (int Width, int Height) PngSize(string path)
    {
        byte[] head = File.ReadAllBytes(path)[..24];
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], head[..4]);
        return (BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(20)));
    }
}
