using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace EchoServer.LoadTest;

/// <summary>A bar: one series' figure in one scenario.</summary>
internal sealed record SeriesValue(string Series, double Value);

/// <summary>One scenario's bars, side by side, with notes printed under it (e.g. "workers: answered 128 of 1,000").</summary>
internal sealed record BarGroup(string Scenario, IReadOnlyList<SeriesValue> Bars, IReadOnlyList<string> Notes);

/// <summary>Throughput of the scenarios measured in one unit: messages/s, MiB/s (messages of 4 KiB and more) or connections/s.</summary>
internal sealed record ThroughputPanel(string Unit, IReadOnlyList<BarGroup> Groups);

/// <summary>
/// One series' latency distribution in a scenario; <paramref name="Legend"/> names the series and, when only some of
/// its clients got replies, how many of them the line measures ("workers: 128 of 1,000 clients measured").
/// </summary>
internal sealed record LatencyLine(string Series, IReadOnlyList<LatencyPoint> Points, string Legend);

/// <summary>One scenario's latency by percentile, a line per series.</summary>
internal sealed record LatencyPanel(string Scenario, IReadOnlyList<LatencyLine> Lines);

/// <summary>
/// The charts of a set of reports, written as PNG and SVG with ScottPlot: throughput (grouped bars, a panel per
/// unit), latency by percentile (the HdrHistogram plot: a log "nines" x axis, a panel per scenario) and the server's
/// memory with idle connections held (hold mode). What is drawn is built first as plain records
/// (<see cref="ThroughputPanels"/>, <see cref="LatencyPanels"/>, <see cref="MemoryPanel"/>), then rendered, with a
/// line under each chart saying what it shows. Each server keeps its colour in every chart (<see cref="SeriesColors"/>).
/// </summary>
internal sealed class Charts
{
    /// <summary>Messages of this size and more are charted in MiB/s; smaller ones in messages/s.</summary>
    public const int LargeMessage = 4096;

    public const string ThroughputFile = "throughput";
    public const string LatencyFile = "latency";
    public const string MemoryFile = "memory";

    public const string ThroughputCaption = "Each bar: one run's echoed messages (MiB for 4 KiB messages and more, connect-echo-close cycles in connect mode) per second, over its measured seconds; a note under a group: connections that never got a reply.";
    public const string LatencyCaption = "Each line: one run's latency per message by percentile (log scales); \"N of M clients measured\": the other clients never got a reply and are not in the line.";
    public const string MemoryCaption = "Each bar: the server's peak resident memory while every connection of the run was held open and idle (hold mode), sampled from /proc.";

    private const int HeaderHeight = 44;
    private const int CaptionLineHeight = 17;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly double[] NinesTicks = [50, 90, 99, 99.9, 99.99, 99.999, 99.9999];

    /// <summary>A sans-serif family that is installed (ScottPlot's own guess may fall back to a serif one on Linux).</summary>
    private static readonly Lazy<string> Font = new(() =>
    {
        var installed = SKFontManager.Default.GetFontFamilies();
        return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "Segoe UI" }.FirstOrDefault(installed.Contains) ?? Fonts.Sans;
    });

    private readonly IReadOnlyList<LoadReport> _all;
    private readonly IReadOnlyList<LoadReport> _reports;
    private readonly IReadOnlyList<LoadReport> _held;
    private readonly IReadOnlyDictionary<string, Color> _colours;
    private readonly Func<LoadReport, string> _seriesOf;
    private readonly Func<LoadReport, string> _scenarioOf;

    /// <param name="reports">The runs, in the order their series and scenarios should appear.</param>
    /// <param name="seriesOf">What a run is one of (a pool configuration, a server): a bar colour, a line.</param>
    /// <param name="scenarioOf">What a run measured (size × connections, a workload): a group of bars, a latency panel.</param>
    public Charts(IEnumerable<LoadReport> reports, Func<LoadReport, string> seriesOf, Func<LoadReport, string> scenarioOf)
    {
        _all = reports.ToList();
        _reports = _all.Where(r => r.Mode != LoadMode.Hold).ToList();
        _held = _all.Where(r => r.Mode == LoadMode.Hold && r.ServerPeakRssMiB is not null).ToList();
        _seriesOf = seriesOf;
        _scenarioOf = scenarioOf;
        _colours = SeriesColors.For(Series);
    }

    public IReadOnlyList<string> Series => _all.Select(_seriesOf).Distinct().ToList();

    /// <summary>The colour of <paramref name="series"/> in these charts.</summary>
    public Color ColourOf(string series) => _colours[series];

    public IReadOnlyList<ThroughputPanel> ThroughputPanels()
    {
        var series = Series;
        return _reports
            .GroupBy(r => Throughput(r).Unit)
            .OrderBy(g => Array.IndexOf(["messages/s", "MiB/s", "connections/s"], g.Key))
            .Select(unit => new ThroughputPanel(
                unit.Key,
                unit.GroupBy(_scenarioOf).Select(scenario => new BarGroup(
                    scenario.Key,
                    series.Select(s => scenario.FirstOrDefault(r => _seriesOf(r) == s) is { } r ? new SeriesValue(s, Throughput(r).Value) : null).OfType<SeriesValue>().ToList(),
                    AnsweredNotes(scenario.ToList()))).ToList()))
            .ToList();
    }

    /// <summary>"answered N of M" for a scenario where some connections got no reply: once if every series fared alike, else per series.</summary>
    private List<string> AnsweredNotes(List<LoadReport> scenario)
    {
        var partial = scenario.Where(r => r.Mode == LoadMode.Echo && r.ConnectionsAnswered < r.Connections).ToList();
        if (partial.Count == 0)
        {
            return [];
        }

        static string Answered(LoadReport r) => string.Create(C, $"answered {r.ConnectionsAnswered:N0} of {r.Connections:N0}");
        return partial.Count == scenario.Count && partial.Select(Answered).Distinct().Count() == 1
            ? [Answered(partial[0])]
            : partial.Select(r => $"{_seriesOf(r)}: {Answered(r)}").ToList();
    }

    public IReadOnlyList<LatencyPanel> LatencyPanels() =>
        _reports.Where(r => r.LatencyUs.Count > 0).GroupBy(_scenarioOf)
            .Select(scenario => new LatencyPanel(scenario.Key, scenario.Select(r => new LatencyLine(_seriesOf(r), DistributionOf(r.LatencyUs), LegendOf(r))).ToList()))
            .ToList();

    /// <summary>The server's peak memory with idle connections held, a group per scenario; null when no hold run sampled the server.</summary>
    public ThroughputPanel? MemoryPanel()
    {
        if (_held.Count == 0)
        {
            return null;
        }

        var series = Series;
        return new ThroughputPanel(
            "MiB",
            _held.GroupBy(_scenarioOf).Select(scenario => new BarGroup(
                scenario.Key,
                series.Select(s => scenario.FirstOrDefault(r => _seriesOf(r) == s) is { } r ? new SeriesValue(s, r.ServerPeakRssMiB!.Value) : null).OfType<SeriesValue>().ToList(),
                scenario.Where(r => r.ConnectionsHeld < r.Connections).Select(r => string.Create(C, $"{_seriesOf(r)}: held {r.ConnectionsHeld:N0} of {r.Connections:N0}")).ToList())).ToList());
    }

    /// <summary>The series, and how many of its clients the line measures when some never got a reply.</summary>
    private string LegendOf(LoadReport r) => r.Mode == LoadMode.Echo && r.ConnectionsAnswered < r.Connections
        ? string.Create(C, $"{_seriesOf(r)}: {r.ConnectionsAnswered:N0} of {r.Connections:N0} clients measured")
        : _seriesOf(r);

    /// <summary>Writes throughput.png/.svg, latency.png/.svg and memory.png/.svg (each only when there is something to draw); returns the files written.</summary>
    public IReadOnlyList<string> Write(string directory, string title)
    {
        var written = new List<string>();
        var throughput = ThroughputPanels();
        if (throughput.Count > 0)
        {
            int width = Math.Max(900, 260 + (throughput.Max(p => p.Groups.Count) * Math.Max(Series.Count, 2) * 62));
            int height = HeaderHeight + throughput.Sum(p => 380 + (18 * p.Groups.Max(g => Wrap(g.Scenario, 28).Count - 1 + g.Notes.Count)));
            written.AddRange(Save(directory, ThroughputFile, $"{title}: throughput (higher is better)", ThroughputCaption, width, height, throughput.Select(p => BarPlot(p, $"Throughput, {p.Unit}")).ToList(), columns: 1));
        }

        var latency = LatencyPanels();
        if (latency.Count > 0)
        {
            int columns = Math.Min(3, latency.Count);
            int rows = (latency.Count + columns - 1) / columns;
            written.AddRange(Save(directory, LatencyFile, $"{title}: latency by percentile (lower is better)", LatencyCaption, columns * 560, HeaderHeight + (rows * 400), latency.Select(LatencyPlot).ToList(), columns));
        }

        if (MemoryPanel() is { } memory)
        {
            int width = Math.Max(900, 260 + (memory.Groups.Count * Math.Max(Series.Count, 2) * 62));
            int height = HeaderHeight + 380 + (18 * memory.Groups.Max(g => Wrap(g.Scenario, 28).Count - 1 + g.Notes.Count));
            written.AddRange(Save(directory, MemoryFile, $"{title}: server memory with idle connections held (lower is better)", MemoryCaption, width, height, [BarPlot(memory, "Peak resident memory, MiB")], columns: 1));
        }

        return written;
    }

    /// <summary>Compact figures for bar labels and axis ticks: 812, 12.5k, 1.25M; MiB/s keep one decimal below 100.</summary>
    public static string Compact(double v) => v switch
    {
        >= 1e6 => (v / 1e6).ToString("0.##", C) + "M",
        >= 1e4 => (v / 1e3).ToString("0.#", C) + "k",
        >= 1e3 => v.ToString("N0", C),
        >= 100 => v.ToString("0", C),
        >= 10 => v.ToString("0.#", C),
        _ => v.ToString("0.##", C),
    };

    /// <summary>A latency for the log axis's tick labels: 20 µs, 500 µs, 2 ms, 1.5 s.</summary>
    public static string LatencyLabel(double us) => us switch
    {
        >= 1e6 => (us / 1e6).ToString("0.##", C) + " s",
        >= 1e3 => (us / 1e3).ToString("0.##", C) + " ms",
        _ => us.ToString("0.##", C) + " µs",
    };

    /// <summary>"99.9%" for 99.9; the nines axis's tick labels.</summary>
    public static string PercentLabel(double percentile) => percentile.ToString("0.#####", C) + "%";

    private static (string Unit, double Value) Throughput(LoadReport r) => r switch
    {
        { Mode: LoadMode.Connect } => ("connections/s", r.ConnectionsPerSecond ?? 0),
        { MessageSize: >= LargeMessage } => ("MiB/s", r.MiBPerSecond),
        _ => ("messages/s", r.MessagesPerSecond),
    };

    /// <summary>The report's distribution; reports written before it was recorded give their four percentiles.</summary>
    private static IReadOnlyList<LatencyPoint> DistributionOf(LatencyReport latency) => latency.Percentiles.Count > 0
        ? latency.Percentiles
        : [new(50, latency.P50), new(90, latency.P90), new(99, latency.P99), new(99.9, latency.P999)];

    private Plot BarPlot(ThroughputPanel panel, string panelTitle)
    {
        var plot = NewPlot();
        var series = Series;
        double slot = 0.8 / Math.Max(series.Count, 1);
        for (int s = 0; s < series.Count; s++)
        {
            var bars = new List<Bar>();
            for (int g = 0; g < panel.Groups.Count; g++)
            {
                if (panel.Groups[g].Bars.FirstOrDefault(b => b.Series == series[s]) is not { } bar)
                {
                    continue;
                }

                bars.Add(new Bar
                {
                    Position = g + ((s - ((series.Count - 1) / 2.0)) * slot),
                    Value = bar.Value,
                    Size = slot * 0.92,
                    FillColor = ColourOf(series[s]),
                    LineWidth = 0,
                    Label = Compact(bar.Value),
                });
            }

            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = series[s];
            plottable.ValueLabelStyle.FontSize = 12;
            plottable.ValueLabelStyle.Bold = true;
        }

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int g = 0; g < panel.Groups.Count; g++)
        {
            var group = panel.Groups[g];
            ticks.AddMajor(g, string.Join('\n', Wrap(group.Scenario, 28).Concat(group.Notes)));
        }

        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Compact, TargetTickCount = 6 };
        // At least three groups' width, so that a lone group's bars are not stretched across the panel.
        double halfSpan = (Math.Max(panel.Groups.Count, 3) / 2.0) + 0.05;
        double center = (panel.Groups.Count - 1) / 2.0;
        plot.Axes.SetLimitsX(center - halfSpan, center + halfSpan);
        plot.Axes.SetLimitsY(0, Math.Max(panel.Groups.SelectMany(g => g.Bars).Select(b => b.Value).DefaultIfEmpty(1).Max(), 1e-9) * 1.15);
        plot.Title(panelTitle, size: 15);
        plot.YLabel(panel.Unit, size: 14);
        plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>x: percentile on a "nines" axis (90% → 1, 99% → 2, ...); y: latency on a log axis (log10 of µs), ticked 1-2-5.</summary>
    private Plot LatencyPlot(LatencyPanel panel)
    {
        var plot = NewPlot();
        var series = Series;
        double deepest = 1;
        var all = panel.Lines.SelectMany(l => l.Points).Select(p => Math.Max(p.Us, 0.1)).DefaultIfEmpty(1).ToList();
        foreach (var line in panel.Lines)
        {
            var xs = line.Points.Select(p => LatencyReport.NinesOf(p.Percentile)).ToArray();
            var ys = line.Points.Select(p => Math.Log10(Math.Max(p.Us, 0.1))).ToArray();
            var scatter = plot.Add.ScatterLine(xs, ys, ColourOf(line.Series));
            scatter.LineWidth = 2;
            scatter.LegendText = line.Legend;
            deepest = Math.Max(deepest, xs.DefaultIfEmpty(0).Max());
        }

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        xTicks.AddMajor(0, string.Empty);
        foreach (double percentile in NinesTicks.Where(p => LatencyReport.NinesOf(p) <= deepest + 0.05))
        {
            xTicks.AddMajor(LatencyReport.NinesOf(percentile), PercentLabel(percentile));
        }

        double low = Math.Log10(all.Min()) - 0.08;
        double high = Math.Log10(all.Max()) + 0.08;
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (double decade = Math.Floor(low); decade <= Math.Ceiling(high); decade++)
        {
            for (int step = 1; step <= 9; step++)
            {
                double y = Math.Log10(step * Math.Pow(10, decade));
                if (y < low || y > high)
                {
                    continue;
                }

                if (step is 1 or 2 or 5)
                {
                    yTicks.AddMajor(y, LatencyLabel(step * Math.Pow(10, decade)));
                }
                else
                {
                    yTicks.AddMinor(y);
                }
            }
        }

        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.SetLimitsX(0, deepest + 0.25); // room for the last tick label
        plot.Axes.SetLimitsY(low, high);
        plot.Title(panel.Scenario, size: 15);
        plot.XLabel("percentile", size: 13);
        plot.YLabel("latency (log scale)", size: 13);
        plot.ShowLegend(Alignment.LowerRight); // the tail rises to the right: the lower right stays clear
        return plot;
    }

    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set(Font.Value);
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Legend.FontSize = 13;
        return plot;
    }

    /// <summary>Breaks <paramref name="text"/> at spaces into lines no wider than <paramref name="width"/> pixels in <paramref name="font"/>.</summary>
    private static List<string> WrapPixels(string text, float width, SKFont font)
    {
        var lines = new List<string>();
        string line = string.Empty;
        foreach (var word in text.Split(' '))
        {
            string longer = line.Length == 0 ? word : line + " " + word;
            if (line.Length > 0 && font.MeasureText(longer) > width)
            {
                lines.Add(line);
                line = word;
            }
            else
            {
                line = longer;
            }
        }

        lines.Add(line);
        return lines;
    }

    /// <summary>Breaks a long scenario name at spaces into lines of about <paramref name="width"/> characters.</summary>
    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        string line = string.Empty;
        foreach (var word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line);
                line = word;
            }
            else
            {
                line = line.Length == 0 ? word : line + " " + word;
            }
        }

        lines.Add(line);
        return lines;
    }

    /// <summary>
    /// A title line, then the panels in a grid (<paramref name="height"/> is the title's and the panels'), then a
    /// caption saying what the chart shows, wrapped to the width; rendered once onto a bitmap (PNG) and once onto an
    /// SVG canvas.
    /// </summary>
    private static string[] Save(string directory, string name, string title, string caption, int width, int height, IReadOnlyList<Plot> panels, int columns)
    {
        int rows = (panels.Count + columns - 1) / columns;
        float cellWidth = width / (float)columns;
        float cellHeight = (height - HeaderHeight) / (float)rows;
        using var captionTypeface = SKTypeface.FromFamilyName(Font.Value);
        using var captionFont = new SKFont(captionTypeface, 13);
        var captionLines = WrapPixels(caption, width - 32, captionFont);
        int panelsHeight = height;
        height += CaptionLineHeight * captionLines.Count + 10;

        void Draw(SKCanvas canvas)
        {
            canvas.Clear(SKColors.White);
            using var typeface = SKTypeface.FromFamilyName(Font.Value, SKFontStyle.Bold);
            using var font = new SKFont(typeface, 18);
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            canvas.DrawText(title, 16, 29, SKTextAlign.Left, font, paint);
            using var grey = new SKPaint { Color = new SKColor(0x44, 0x44, 0x44), IsAntialias = true };
            for (int line = 0; line < captionLines.Count; line++)
            {
                canvas.DrawText(captionLines[line], 16, panelsHeight + (CaptionLineHeight * (line + 1)) - 2, SKTextAlign.Left, captionFont, grey);
            }
            for (int i = 0; i < panels.Count; i++)
            {
                float left = i % columns * cellWidth;
                float top = HeaderHeight + (i / columns * cellHeight);
                // A plot paints its whole canvas: the clip keeps it to its own cell.
                canvas.Save();
                canvas.ClipRect(new SKRect(left, top, left + cellWidth, top + cellHeight));
                panels[i].Render(canvas, new PixelRect(left, left + cellWidth, top + cellHeight, top));
                canvas.Restore();
            }
        }

        string png = Path.Combine(directory, name + ".png");
        using (var surface = SKSurface.Create(new SKImageInfo(width, height)))
        {
            Draw(surface.Canvas);
            using var image = surface.Snapshot();
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            using var file = File.Create(png);
            data.SaveTo(file);
        }

        string svg = Path.Combine(directory, name + ".svg");
        using (var file = File.Create(svg))
        {
            using var canvas = SKSvgCanvas.Create(new SKRect(0, 0, width, height), file);
            Draw(canvas);
        }

        foreach (var panel in panels)
        {
            panel.Dispose();
        }

        return [png, svg];
    }
}
