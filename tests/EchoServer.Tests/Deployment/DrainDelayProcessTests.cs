using System.Diagnostics;
using System.Globalization;
using System.Net;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Deployment;

/// <summary>--drain-delay in the real executable, stopped with SIGTERM as systemd or kill would.</summary>
public sealed class DrainDelayProcessTests
{
    [Fact]
    public async Task SIGTERM_turns_ready_503_keeps_serving_for_the_delay_then_closes_the_listener_and_exits_0()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        using var server = ServerProcess.Start("--port", "0", "--admin-port", "0", "--drain-delay", "3s", "--shutdown-timeout", "2s");
        var endPoint = await server.WaitForListeningAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{(await server.WaitForAdminPortAsync()).ToString(CultureInfo.InvariantCulture)}"), Timeout = Eventually.Soon };
        using var before = await EchoClient.ConnectAsync(endPoint);
        await before.RoundTripAsync([1]);

        server.Terminate();
        var clock = Stopwatch.StartNew();

        await Eventually.True(() => server.Stdout.Any(l => l.Contains("/ready answers 503 draining", StringComparison.Ordinal)), "the drain delay line");
        using (var response = await http.GetAsync(new Uri("/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        using (var during = await EchoClient.ConnectAsync(endPoint))
        {
            Assert.Equal([2, 3], await during.RoundTripAsync([2, 3]));
        }

        Assert.Equal([4], await before.RoundTripAsync([4]));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), "the checks ran within the delay");

        await Eventually.True(() => !Probe.CanConnect(endPoint), "the listener to close after the delay");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), $"the listener closed {clock.Elapsed.TotalSeconds:F2} s after SIGTERM, before the 3 s delay");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(server.Stdout, l => l.Contains("Stopped after", StringComparison.Ordinal));
        Assert.Empty(server.Stderr);
    }

    [Fact]
    public async Task A_second_SIGTERM_during_the_delay_skips_to_the_drain()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        using var server = ServerProcess.Start("--port", "0", "--drain-delay", "10m");
        await server.WaitForListeningAsync();

        server.Terminate();
        await Eventually.True(() => server.Stdout.Any(l => l.Contains("/ready answers 503 draining", StringComparison.Ordinal)), "the drain delay line");
        server.Terminate();

        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains(server.Stdout, l => l.Contains("Second stop request: the drain delay ends now", StringComparison.Ordinal));
    }
}
