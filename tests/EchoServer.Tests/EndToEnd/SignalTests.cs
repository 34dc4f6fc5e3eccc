using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>Signals a person sends to the running executables.</summary>
public sealed class SignalTests
{
    [Fact]
    public async Task SIGUSR1_logs_a_pool_snapshot_and_the_server_keeps_serving()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // SIGUSR1 is 10 on Linux only
        }

        using var server = ServerProcess.Start("--port", "0", "--pool", "workers", "--workers", "4");
        var endPoint = await server.WaitForListeningAsync();
        using var client = await EchoClient.ConnectAsync(endPoint);
        await client.RoundTripAsync([1, 2]);

        server.Signal(10);

        await Eventually.True(() => server.Stdout.Any(l => l.Contains("Snapshot: queue, oldest first", StringComparison.Ordinal)), "the snapshot's last line");
        Assert.Contains(server.Stdout, l => l.Contains("Snapshot: pool=workers workers=4 busy=1 queue=0/1024", StringComparison.Ordinal));
        Assert.Contains(server.Stdout, l => l.Contains("Snapshot:   echo-worker-", StringComparison.Ordinal) && l.Contains("serving #1", StringComparison.Ordinal));
        Assert.False(server.HasExited);
        Assert.Equal([3], await client.RoundTripAsync([3]));
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    internal async Task Ctrl_C_stops_echo_load_early_and_it_still_prints_its_report()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGINT is how Ctrl+C reaches a process on Unix
        }

        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning });
        using var load = ServerProcess.StartTool("echo-load.dll", "--port", server.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "4", "-d", "60", "--progress", "200ms");
        await Eventually.True(() => load.Stderr.Any(l => l.Contains("msg/s", StringComparison.Ordinal)), "a progress line");

        load.Signal(2);

        Assert.Equal(0, await load.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains(load.Stdout, l => l.Contains("(interrupted)", StringComparison.Ordinal));
        Assert.Contains(load.Stdout, l => l.Contains("errors       none", StringComparison.Ordinal));
    }
}
