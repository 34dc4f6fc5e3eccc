using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>
/// Signals whose default action ends a process (a closed terminal's SIGHUP, a stray SIGUSR2, a flood of SIGUSR1)
/// leave the real executable serving: it logs a line and goes on, and a later SIGTERM still drains.
/// </summary>
public sealed class DaemonSignalTests
{
    private const int SigHup = 1;
    private const int SigUsr1 = 10;

    /// <summary>Deadline for what takes a second alone but far longer beside parallel builds.</summary>
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Pools => new() { "workers", "executor" };

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task SIGHUP_does_not_end_the_server_and_a_later_SIGTERM_still_drains_with_the_summary(string pool)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // signal numbers are Linux's
        }

        using var server = ServerProcess.Start("--port", "0", "--pool", pool);
        var endPoint = await server.WaitForListeningAsync(Slow);

        server.Signal(SigHup);
        await Eventually.True(() => server.HasExited || server.Stdout.Any(l => l.Contains("SIGHUP received: nothing to reload", StringComparison.Ordinal)), "the SIGHUP line", Slow);
        Assert.False(server.HasExited, "SIGHUP ended the server");
        using (var client = await EchoClient.ConnectAsync(endPoint))
        {
            Assert.Equal("after hup"u8.ToArray(), await client.RoundTripAsync("after hup"u8.ToArray()));
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(Slow));
        Assert.Contains(server.Stdout, l => l.Contains("Stopped after", StringComparison.Ordinal) && l.Contains("connections served 1,", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(12, "SIGUSR2")]
    [InlineData(14, "SIGALRM")]
    [InlineData(30, "SIGPWR")]
    [InlineData(24, "SIGXCPU")]
    [InlineData(25, "SIGXFSZ")]
    [InlineData(26, "SIGVTALRM")]
    [InlineData(27, "SIGPROF")]
    public async Task A_signal_nobody_sends_on_purpose_is_ignored_with_one_line(int signal, string name)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // signal numbers are Linux's
        }

        using var server = ServerProcess.Start("--port", "0");
        var endPoint = await server.WaitForListeningAsync(Slow);

        for (int i = 0; i < 5; i++)
        {
            server.Signal(signal);
        }

        await Eventually.True(() => server.HasExited || server.Stdout.Any(l => l.Contains($"{name} received and ignored", StringComparison.Ordinal)), $"the {name} line", Slow);
        Assert.False(server.HasExited, $"{name} ended the server");
        using (var client = await EchoClient.ConnectAsync(endPoint))
        {
            Assert.Equal("x"u8.ToArray(), await client.RoundTripAsync("x"u8.ToArray()));
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(Slow));
        Assert.Single(server.Stdout, l => l.Contains($"{name} received and ignored", StringComparison.Ordinal)); // five signals, one line
        Assert.Contains(server.Stdout, l => l.Contains("Stopped after", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_flood_of_SIGUSR1_writes_at_most_one_snapshot_a_second_and_answers_every_signal(string pool)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // signal numbers are Linux's
        }

        using var server = ServerProcess.Start("--port", "0", "--pool", pool);
        await server.WaitForListeningAsync(Slow);

        // 100 signals a second for 2 s: paced, since the kernel merges a signal sent while the same one is pending.
        var flood = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 200 && !server.HasExited; i++)
        {
            server.Signal(SigUsr1);
            await Task.Delay(10);
        }

        double seconds = flood.Elapsed.TotalSeconds;

        // The flood ends with a snapshot that answers the signals merged into it.
        await Eventually.True(() => server.HasExited || server.Stdout.Any(l => l.Contains("SIGUSR1 received since the last snapshot answered by this one", StringComparison.Ordinal)), "the coalesced snapshot", Slow);
        Assert.False(server.HasExited, "the flood ended the server");
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(Slow));

        int snapshots = server.Stdout.Count(IsSnapshotHead);
        Assert.True(snapshots >= 2, $"{snapshots} snapshots for 200 signals");
        Assert.True(snapshots <= (int)Math.Ceiling(seconds) + 2, $"{snapshots} snapshots in {seconds:F1} s of signals: at most one a second");
        Assert.True(server.Stdout.Count < 40 * snapshots + 20, $"{server.Stdout.Count} log lines");
    }

    private static bool IsSnapshotHead(string line) => line.Contains("Snapshot: pool=", StringComparison.Ordinal);
}
