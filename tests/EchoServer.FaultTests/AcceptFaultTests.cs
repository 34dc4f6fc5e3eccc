using System.Net.Sockets;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.FaultTests;

/// <summary>The accept loop survives accept failures, through the listener's accept seam.</summary>
public sealed class AcceptFaultTests
{
    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task A_thousand_accept_faults_leave_the_loop_alive_and_the_next_client_is_served(PoolKind pool)
    {
        int faultsLeft = 1000;
        await using var server = await TestServer.StartAsync(pool, beforeStart: service =>
        {
            var real = service.Listener.Accept;
            service.Listener.Accept = (socket, ct) => Interlocked.Decrement(ref faultsLeft) >= 0
                ? throw new SocketException((int)SocketError.ConnectionAborted)
                : real(socket, ct);
        });

        using var client = await EchoClient.ConnectAsync(server.EndPoint);

        Assert.Equal([42], await client.RoundTripAsync([42]));
        Assert.True(Volatile.Read(ref faultsLeft) < 0, "every injected fault was raised");
        Assert.Equal(1, server.Service.Tracker.Counters.Accepted);
        var logged = server.Logs.Named("AcceptFailed").ToList();
        Assert.InRange(logged.Count, 1, 5); // rate-limited: one line per second with the count of the rest
        Assert.All(logged, e => Assert.Equal(LogLevel.Warning, e.Level));
        // No slot leaked by the faults: one for the live client, one taken by the loop waiting in accept.
        await Eventually.True(() => server.Service.Listener.HeldSlots == 2, "two held connection slots");
    }

    [Fact]
    internal async Task Running_out_of_descriptors_backs_off_and_recovers_by_itself()
    {
        int faultsLeft = 4;
        var faultTimes = new List<DateTime>();
        await using var server = await TestServer.StartAsync(PoolKind.Workers, beforeStart: service =>
        {
            var real = service.Listener.Accept;
            service.Listener.Accept = (socket, ct) =>
            {
                if (Interlocked.Decrement(ref faultsLeft) >= 0)
                {
                    lock (faultTimes)
                    {
                        faultTimes.Add(DateTime.UtcNow);
                    }

                    throw new SocketException((int)SocketError.TooManyOpenSockets);
                }

                return real(socket, ct);
            };
        });

        using var client = await EchoClient.ConnectAsync(server.EndPoint);

        Assert.Equal([7], await client.RoundTripAsync([7]));
        lock (faultTimes)
        {
            Assert.Equal(4, faultTimes.Count);

            // 10, 20, 40 ms back-offs between the four faults: at least 70 ms in all, not a busy spin.
            Assert.True(faultTimes[^1] - faultTimes[0] >= TimeSpan.FromMilliseconds(65), $"faults came too fast: {faultTimes[^1] - faultTimes[0]}");
        }

        Assert.Contains("TooManyOpenSockets", server.Logs.Named("AcceptFailed").First().Message, StringComparison.Ordinal);
    }
}
