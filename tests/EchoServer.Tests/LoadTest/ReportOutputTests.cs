
using System.Globalization;
using System.Text.Json;
using EchoServer.LoadTest;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.LoadTest;

/// <summary>What echo-load shows while it runs and what its report carries: progress, open-loop in-flight, the distribution, --json -.</summary>
public sealed class ReportOutputTests
{
    [Fact]
    public async Task Json_dash_writes_the_report_alone_to_stdout_and_the_text_to_stderr()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { LogLevel = LogLevel.Warning });
        using var load = ServerProcess.StartTool("echo-load.dll", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "-c", "2", "-n", "50", "--progress", "0", "--json", "-");

        Assert.Equal(0, await load.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        using var json = JsonDocument.Parse(string.Join('\n', load.Stdout));
        Assert.Equal(50, json.RootElement.GetProperty("messages").GetInt64());
        Assert.False(File.Exists("-"), "--json - wrote a file named '-'");
        Assert.Contains(load.Stderr, l => l.StartsWith("  latency µs   p50", StringComparison.Ordinal));
        Assert.Contains(load.Stderr, l => l.StartsWith("echo-load echo against", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_report_gives_echo_load_s_own_CPU_per_message_beside_the_server_s()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // both are read from /proc
        }

        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { LogLevel = LogLevel.Warning });
        using var load = ServerProcess.StartTool("echo-load.dll", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "-c", "4", "-d", "1", "--progress", "0",
            "--server-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--json", "-");

        Assert.Equal(0, await load.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        using var json = JsonDocument.Parse(string.Join('\n', load.Stdout));
        Assert.True(json.RootElement.GetProperty("clientCpuUsPerMessage").GetDouble() > 0, "no client CPU per message in the JSON report");
        Assert.True(json.RootElement.GetProperty("clientCores").GetDouble() > 0, "no client cores in the JSON report");
        Assert.True(json.RootElement.GetProperty("serverCpuUsPerMessage").GetDouble() > 0, "no server CPU per message in the JSON report");
        Assert.Contains(load.Stderr, l => l.StartsWith("  client       ", StringComparison.Ordinal) && l.EndsWith("µs CPU per message (echo-load itself)", StringComparison.Ordinal));
    }

    [Fact]
    public void The_progress_line_shows_elapsed_and_remaining_time_and_MiB_per_second()
    {
        var output = new StringWriter();
        var printer = new ProgressPrinter(output, interactive: false);

        printer.Print(new ProgressSample(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(7), 65_432, 3.99, 123.4, 196_000, 0, 0));
        printer.Print(new ProgressSample(TimeSpan.FromSeconds(1), null, 10, 0, 0, 0, 0, 0));

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("[   3.0 s,    7.0 s left]     65,432 msg/s      3.99 MiB/s  p99     123.4 µs  messages 196,000  errors 0", lines[0]);
        Assert.StartsWith("[   1.0 s,    ? s left]", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void On_a_narrow_terminal_the_live_progress_line_is_cut_to_its_width()
    {
        var output = new StringWriter();
        var printer = new ProgressPrinter(output, interactive: true, () => 60);

        for (int i = 0; i < 3; i++)
        {
            printer.Print(new ProgressSample(TimeSpan.FromSeconds(i), TimeSpan.FromSeconds(10 - i), 65_432, 3.99, 123.4, 196_000, 0, 0));
        }

        printer.Finish();

        // Each rewrite starts with a carriage return; none may reach the last column, or the terminal wraps it and the next one lands below.
        var rewrites = output.ToString().TrimEnd('\n', '\r').Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, rewrites.Length);
        Assert.All(rewrites, r => Assert.InRange(r.Length, 40, 59));
        Assert.StartsWith("[   2.0 s,    8.0 s left]", rewrites[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_the_exit_codes()
    {
        using var help = ServerProcess.StartTool("echo-load.dll", "--help");

        Assert.Equal(0, await help.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        string text = string.Join('\n', help.Stdout);
        foreach (var code in new[] { "0  every connection answered", "1  errors", "2  bad command line", "3  at least one byte came back wrong", "4  no error, but some connections never got a reply" })
        {
            Assert.Contains(code, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    internal async Task An_open_loop_run_reports_how_many_messages_were_really_in_flight()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { LogLevel = LogLevel.Warning });
        var options = new LoadOptions { Port = server.EndPoint.Port, Connections = 2, Rate = 2000, Duration = TimeSpan.FromSeconds(1), ProgressInterval = TimeSpan.Zero };

        var report = await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), "the open-loop run");

        Assert.Empty(report.Errors);
        Assert.InRange(report.InFlightPeak ?? 0, 1, 1024);
        Assert.InRange(report.InFlightMean ?? -1, 0.001, 1024);
        string first = report.ToText().Split('\n')[0];
        Assert.Contains("open loop at 2,000 msg/s, in flight per connection: mean ", first, StringComparison.Ordinal);
        Assert.DoesNotContain("pipeline", first, StringComparison.Ordinal);
    }

    [Fact]
    internal async Task The_report_carries_the_latency_distribution_on_a_nines_scale()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Workers, o => o with { LogLevel = LogLevel.Warning });
        var options = new LoadOptions { Port = server.EndPoint.Port, Connections = 2, Messages = 2000, ProgressInterval = TimeSpan.Zero };

        var report = await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), "2000 messages");

        var points = report.LatencyUs.Percentiles;
        // 2,000 messages resolve log10(2000) = 3.3 nines: 0%, then ten points a decade, to 99.95%.
        Assert.Equal(34, points.Count);
        Assert.Equal(0, points[0].Percentile);
        Assert.Contains(points, p => p.Percentile == 90);
        Assert.Contains(points, p => p.Percentile == 99.9);
        Assert.True(points.Zip(points.Skip(1)).All(p => p.First.Percentile < p.Second.Percentile && p.First.Us <= p.Second.Us), "not increasing");
        Assert.Equal(report.LatencyUs.P99, points.Single(p => p.Percentile == 99).Us);

        var back = LoadReport.FromJson(report.ToJson())!;
        Assert.Equal(points, back.LatencyUs.Percentiles);
        Assert.Contains("\"percentiles\": [", report.ToJson(), StringComparison.Ordinal);
    }
}
