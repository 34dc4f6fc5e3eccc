using System.Diagnostics;
using System.Net.Sockets;
using EchoServer.Diagnostics;
using EchoServer.TestSupport;

namespace EchoServer.FaultTests;

/// <summary>SIGTERM while hundreds of clients are mid-stream: nothing already received is lost, and the process leaves on time.</summary>
public sealed class ShutdownUnderLoadTests
{
    private const int Clients = 500;

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task Every_byte_sent_before_the_drain_deadline_comes_back_and_the_server_exits_0_in_time(string pool)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        DescriptorLimit.RaiseSoftLimit(4096);
        using var server = ServerProcess.Start("--port", "0", "--pool", pool, "--workers", "600", "--max-connections", "1000", "--shutdown-timeout", "3s", "--log-level", "Warning");
        var endPoint = await server.WaitForListeningAsync();
        var clients = new List<EchoClient>();
        for (int i = 0; i < Clients; i += 100)
        {
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => EchoClient.ConnectAsync(endPoint))));
        }

        // One round trip each first: every client is then accepted and being served. A connection still in the
        // kernel's backlog when the listener closes is reset by the kernel, before the server ever saw a byte.
        await Task.WhenAll(clients.Select(c => c.RoundTripAsync([7])));

        using var stopSending = new CancellationTokenSource();
        var streams = clients.Select(c => StreamUntilStoppedAsync(c, stopSending.Token)).ToArray();
        await Task.Delay(300); // let every stream get going: the signal must land mid-stream

        server.Terminate();
        var terminatedAt = Stopwatch.StartNew();
        await Task.Delay(500); // keep streaming into the drain
        await stopSending.CancelAsync();

        var results = await Task.WhenAll(streams);
        Assert.All(results, r => Assert.True(r.Sent == r.Received && r.Intact, $"sent {r.Sent} bytes, got {r.Received} back, intact: {r.Intact}"));
        Assert.True(results.Sum(r => r.Sent) > Clients * 100L, "the clients were really streaming");

        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(terminatedAt.Elapsed < TimeSpan.FromSeconds(4), $"exited {terminatedAt.Elapsed.TotalSeconds:F1} s after SIGTERM (shutdown timeout 3 s)");
        Assert.Contains(server.Stdout, l => l.Contains($"connections served {Clients},", StringComparison.Ordinal));
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task Sessions_still_open_at_the_deadline_are_closed_and_the_server_exits_within_timeout_plus_one_second()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        using var server = ServerProcess.Start("--port", "0", "--shutdown-timeout", "1s");
        var endPoint = await server.WaitForListeningAsync();
        var lingering = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => EchoClient.ConnectAsync(endPoint)));
        foreach (var client in lingering)
        {
            await client.RoundTripAsync([1]);
        }

        server.Terminate();
        var clock = Stopwatch.StartNew();

        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"exited {clock.Elapsed.TotalSeconds:F1} s after SIGTERM (shutdown timeout 1 s)");
        foreach (var client in lingering)
        {
            Assert.True(await client.IsClosedByServerAsync(), "a lingering client is closed at the deadline");
            client.Dispose();
        }

        Assert.Equal(20, server.Stdout.Count(l => l.Contains("reason=shutdown", StringComparison.Ordinal)));
    }

    private static async Task<(long Sent, long Received, bool Intact)> StreamUntilStoppedAsync(EchoClient client, CancellationToken stop)
    {
        long sent = 0;
        var chunk = new byte[100];
        var received = new List<byte>();
        var buffer = new byte[4096];
        var reading = Task.Run(async () =>
        {
            int n;
            while ((n = await client.Socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, n));
            }
        });

        while (!stop.IsCancellationRequested)
        {
            for (int i = 0; i < chunk.Length; i++)
            {
                chunk[i] = (byte)((sent + i) % 253);
            }

            sent += await client.Socket.SendAsync(chunk, SocketFlags.None);
            await Task.Delay(10);
        }

        // Done sending: half-close, and the server sends back the rest before closing.
        client.Socket.Shutdown(SocketShutdown.Send);
        await reading.WaitAsync(TimeSpan.FromSeconds(20));
        bool intact = received.Select((b, i) => b == (byte)(i % 253)).All(ok => ok);
        return (sent, received.Count, intact);
    }
}
