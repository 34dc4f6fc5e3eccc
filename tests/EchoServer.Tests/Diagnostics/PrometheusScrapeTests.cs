using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using EchoServer.Hosting;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Diagnostics;

/// <summary>What Prometheus scrapes from the real executable under load passes promtool's lint, and names the service.</summary>
public sealed partial class PrometheusScrapeTests
{
    [Theory]
    [InlineData("workers")]
    [InlineData("executor")]
    public async Task A_scrape_under_load_passes_promtool_and_carries_the_runtime_metrics_and_the_service_attributes(string pool)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // promtool comes from a Debian package
        }

        await DebianTool.RequireAsync("promtool", "prometheus");
        using var server = ServerProcess.Start("--port", "0", "--admin-port", "0", "--pool", pool, "--workers", "2", "--queue", "1");
        var endPoint = await server.WaitForListeningAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await AdminPortAsync(server)}"), Timeout = Eventually.Soon };

        // A few clients echo, then two clients that never read: in the worker pool they hold both workers, one
        // client waits in the queue and one is refused; in the executor they hold no slot and a burst is echoed at once.
        for (int i = 1; i <= 3; i++)
        {
            using var client = await EchoClient.ConnectAsync(endPoint);
            await client.RoundTripAsync(new byte[100 * i]);
        }

        // The three closed and their workers free again, or a hog would find both still busy and queue or be refused.
        await SnapshotShowsAsync(http, " served=3 ");
        await SnapshotShowsAsync(http, " busy=0 ");

        using var hog1 = await SlotHog.ConnectAsync(endPoint);
        using var hog2 = await SlotHog.ConnectAsync(endPoint);
        bool executor = pool == "executor";
        if (executor)
        {
            // The executor's hogs wait for their clients to read holding no slot: nothing queues, and a burst is echoed at once.
            await SnapshotShowsAsync(http, "sending=2 holding a slot (0):");
        }
        else
        {
            await HogsBlockedAsync(http, 2);
        }

        using var queued = await EchoClient.ConnectAsync(endPoint);
        await queued.Socket.SendAsync(new byte[] { 1 });
        if (executor)
        {
            Assert.Equal([1], await queued.ReadExactlyAsync(1));
        }
        else
        {
            await SnapshotShowsAsync(http, "busy=2 queue=1/1");
            using var refused = await EchoClient.ConnectAsync(endPoint);
            await refused.Socket.SendAsync(new byte[] { 1 });
            Assert.True(await refused.IsClosedByServerAsync());
        }

        string scrape = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var lint = await Command.RunAsync("promtool", ["check", "metrics"], Eventually.Soon, input: scrape);
        Assert.True(lint is not null, "promtool check metrics did not finish");
        string said = (lint.Stdout + lint.Stderr).Trim();
        Assert.True(lint.ExitCode == 0 && said.Length == 0, $"promtool check metrics exited {lint.ExitCode}:\n{said}");

        // It was taken under that load.
        Assert.Contains($"\necho_pool_queue_length{{otel_scope_name=\"EchoServer\",echo_pool=\"{pool}\"}} {(executor ? 0 : 1)}\n", scrape, StringComparison.Ordinal);
        Assert.Contains($"\necho_pool_busy_slots{{otel_scope_name=\"EchoServer\",echo_pool=\"{pool}\"}} {(executor ? 0 : 2)}\n", scrape, StringComparison.Ordinal);
        if (!executor)
        {
            Assert.Contains(
                $"\necho_refused_connections_total{{otel_scope_name=\"EchoServer\",echo_close_reason=\"pool-saturated\",echo_pool=\"{pool}\"}} 1\n", scrape, StringComparison.Ordinal);
        }

        // The .NET thread pool's own numbers next to ours.
        Assert.Contains("\ndotnet_thread_pool_queue_length{", scrape, StringComparison.Ordinal);
        Assert.Contains("\ndotnet_gc_collections_total{", scrape, StringComparison.Ordinal);
        Assert.Contains("\ndotnet_process_memory_working_set_bytes{", scrape, StringComparison.Ordinal);
        string version = typeof(ServerOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        var target = TargetInfo().Match(scrape);
        Assert.True(target.Success, $"no target_info line in:\n{scrape}");
        Assert.Contains("service_name=\"echo-server\"", target.Value, StringComparison.Ordinal);
        Assert.Contains($"service_version=\"{version}\"", target.Value, StringComparison.Ordinal);
    }

    private static async Task<int> AdminPortAsync(ServerProcess server)
    {
        Match? match = null;
        await Eventually.True(() => (match = server.Stdout.Select(l => AdminLine().Match(l)).FirstOrDefault(m => m.Success)) is not null, "the 'Admin endpoint on' line");
        return int.Parse(match!.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task SnapshotShowsAsync(HttpClient http, string text)
    {
        string snapshot = string.Empty;
        var deadline = Stopwatch.StartNew();
        while (!snapshot.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < Eventually.Soon, $"the snapshot never showed '{text}':\n{snapshot}");
            await Task.Delay(10);
            snapshot = await http.GetStringAsync(new Uri("/snapshot", UriKind.Relative));
        }
    }

    /// <summary>Waits until <paramref name="count"/> sessions are sending and their bytes out stand still: hogs holding their slots for good.</summary>
    private static async Task HogsBlockedAsync(HttpClient http, int count)
    {
        string last = string.Empty;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            string snapshot = await http.GetStringAsync(new Uri("/snapshot", UriKind.Relative));
            string sending = string.Join(" ", SendingSession().Matches(snapshot).Select(m => $"{m.Groups["id"].Value}:{m.Groups["out"].Value}"));
            if (SendingSession().Count(snapshot) == count && sending == last)
            {
                return;
            }

            Assert.True(deadline.Elapsed < Eventually.Soon, $"never {count} sessions blocked in a send:\n{snapshot}");
            last = sending;
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"Admin endpoint on http://127\.0\.0\.1:(?<port>\d+) ")]
    private static partial Regex AdminLine();

    [GeneratedRegex(@"#(?<id>\d+) \S+ since [\d.]+ s, in \d+ B, out (?<out>\d+) B, sending")]
    private static partial Regex SendingSession();

    [GeneratedRegex(@"(?m)^target_info\{.*\} 1$")]
    private static partial Regex TargetInfo();
}
