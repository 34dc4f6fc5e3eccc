using System.Diagnostics;
using System.Net.Sockets;
using EchoServer.TestSupport;

namespace EchoServer.FaultTests;

/// <summary>Slowloris-style silent clients and clients that never read cannot pin the pool.</summary>
public sealed class SlowAndSilentClientTests
{
    [Theory]
    [InlineData("workers")] // the executor holds no slot for a silent client: ExecutorIntegrationTests
    public async Task Four_silent_clients_on_four_workers_are_closed_within_two_seconds_and_a_fifth_is_served(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with
        {
            PoolSettings = TestServer.Pool(4, 16),
            IdleTimeout = TimeSpan.FromSeconds(1),
        });
        var clock = Stopwatch.StartNew();
        var silent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => EchoClient.ConnectAsync(server.EndPoint)));
        using var fifth = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Pool.Load.Busy == 4, "the four silent clients to take every worker");

        foreach (var client in silent)
        {
            Assert.True(await client.IsClosedByServerAsync(TimeSpan.FromSeconds(5)), "a silent client is closed");
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"silent clients closed after {clock.Elapsed.TotalSeconds:F2} s (idle timeout 1 s)");
        Assert.Equal([5], await fifth.RoundTripAsync([5]));
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Count(e => e.Message.Contains("reason=idle-timeout", StringComparison.Ordinal)) == 4, "four idle-timeout close lines");
        foreach (var client in silent)
        {
            client.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task A_client_that_never_reads_is_closed_within_send_timeout_plus_one_second_and_the_worker_goes_on(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with
        {
            PoolSettings = TestServer.Pool(1, 4),
            SendTimeout = TimeSpan.FromSeconds(1),
        });
        using var reader = await EchoClient.ConnectAsync(server.EndPoint);
        reader.Socket.ReceiveBufferSize = 4096;

        // Send far more than the socket buffers hold, and never read: the server's echo must stall.
        var sending = Task.Run(async () =>
        {
            var chunk = new byte[64 * 1024];
            try
            {
                for (int i = 0; i < 1024; i++)
                {
                    await reader.Socket.SendAsync(chunk, SocketFlags.None);
                }
            }
            catch (SocketException)
            {
                // Closed by the server, as it should be.
            }
        });
        await Eventually.True(() => server.Service.Connections.Snapshot().Any(c => c.Progress.Waiting.Kind == Echo.SessionWait.Send), "the server's echo to block on the client");
        var stalled = Stopwatch.StartNew();

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=send-timeout", StringComparison.Ordinal)), "the send-timeout close", TimeSpan.FromSeconds(5));
        Assert.True(stalled.Elapsed < TimeSpan.FromSeconds(2.2), $"closed {stalled.Elapsed.TotalSeconds:F2} s after the echo stalled (send timeout 1 s)");
        await Eventually.Completes(sending, "the sender to stop");

        using var next = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([7], await next.RoundTripAsync([7]));
    }

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task A_client_that_keeps_talking_is_not_idle(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with { IdleTimeout = TimeSpan.FromSeconds(1) });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);

        // 25 round trips 100 ms apart span 2.5 idle timeouts, with no gap anywhere near one (even on a busy machine).
        for (int i = 0; i < 25; i++)
        {
            Assert.Equal([(byte)i], await client.RoundTripAsync([(byte)i]));
            await Task.Delay(100);
        }

        Assert.Empty(server.Logs.Named("ConnectionClosed"));
    }
}
