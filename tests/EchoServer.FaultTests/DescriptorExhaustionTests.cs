using System.Diagnostics;
using EchoServer.TestSupport;

namespace EchoServer.FaultTests;

/// <summary>Running out of file descriptors turns the accept loop into a back-off, not a busy spin, and service comes back by itself.</summary>
public sealed class DescriptorExhaustionTests
{
    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task At_the_descriptor_limit_the_server_backs_off_at_low_CPU_and_recovers_when_descriptors_are_freed(string pool)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // prlimit(2) and /proc are Linux
        }

        using var server = ServerProcess.Start("--port", "0", "--pool", pool, "--log-level", "Warning");
        var endPoint = await server.WaitForListeningAsync();
        using (var warm = await EchoClient.ConnectAsync(endPoint))
        {
            await warm.RoundTripAsync([1]);
        }

        // Leave room for twenty more descriptors, then connect a hundred clients: most wait unaccepted.
        await Eventually.True(() => server.Stdout.Any(l => l.Contains("File descriptor limit", StringComparison.Ordinal)), "the start-up lines");
        int open = ProcessLimits.OpenDescriptors(server.Id);
        ProcessLimits.SetDescriptorLimit(server.Id, (ulong)open + 20);
        var clients = new List<EchoClient>();
        for (int i = 0; i < 100; i++)
        {
            clients.Add(await EchoClient.ConnectAsync(endPoint));
        }

        await Eventually.True(() => server.Stdout.Any(l => l.Contains("File descriptors nearly exhausted", StringComparison.Ordinal)), "the exhaustion to be logged");
        foreach (var client in clients.Take(5))
        {
            Assert.Equal([3], await client.RoundTripAsync([3]));
        }

        // Meanwhile the accept loop must back off: measure the server's CPU over two seconds.
        double cpuBefore = ProcessLimits.CpuSeconds(server.Id);
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(2)); // a measurement window, not a wait for a state
        double cpuShare = (ProcessLimits.CpuSeconds(server.Id) - cpuBefore) / window.Elapsed.TotalSeconds;
        Assert.True(cpuShare < 0.2, $"server used {cpuShare:P0} of a core while out of descriptors");
        int warnings = server.Stdout.Count(l => l.Contains("warn:", StringComparison.Ordinal));
        Assert.True(warnings <= 4, $"{warnings} warnings in about 3 s of exhaustion (at most one per second): {string.Join(" | ", server.Stdout.Where(l => l.Contains("warn:", StringComparison.Ordinal)))}");

        // Free descriptors by closing the clients (the limit stays low): a new client is served.
        foreach (var client in clients)
        {
            client.Dispose();
        }

        using var after = await EchoClient.ConnectAsync(endPoint);
        Assert.Equal([2], await after.RoundTripAsync([2], TimeSpan.FromSeconds(10)));
    }
}
