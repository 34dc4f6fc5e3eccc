using System.Net.Sockets;
using EchoServer.Listening;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoServer.FaultTests;

/// <summary>The accept loop survives accept failures, raised by a stand-in for the socket's accept.</summary>
public sealed class AcceptFaultTests
{
    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task A_thousand_accept_faults_leave_the_loop_alive_and_the_next_client_is_served(PoolKind pool)
    {
        int faultsLeft = 1000;
        var acceptor = new FaultyAcceptor(() => Interlocked.Decrement(ref faultsLeft) >= 0 ? SocketError.ConnectionAborted : null);

        // Two connections allowed: had one fault kept its permit, the second client would wait in the backlog.
        await using var server = await TestServer.StartAsync(pool, o => o with { MaxConnections = 2 }, s => s.AddSingleton<ISocketAcceptor>(acceptor));

        using var client = await EchoClient.ConnectAsync(server.EndPoint);

        Assert.Equal([42], await client.RoundTripAsync([42]));
        Assert.True(Volatile.Read(ref faultsLeft) < 0, "every injected fault was raised");
        Assert.Equal(1, server.Service.Counters.Accepted);
        var logged = server.Logs.Named("AcceptFailed").ToList();
        Assert.InRange(logged.Count, 1, 5); // rate-limited: one line per second with the count of the rest
        Assert.All(logged, e => Assert.Equal(LogLevel.Warning, e.Level));
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([43], await second.RoundTripAsync([43]));
    }

    [Fact]
    internal async Task Running_out_of_descriptors_backs_off_and_recovers_by_itself()
    {
        int faultsLeft = 4;
        var faultTimes = new List<DateTime>();
        var acceptor = new FaultyAcceptor(() =>
        {
            if (Interlocked.Decrement(ref faultsLeft) < 0)
            {
                return null;
            }

            lock (faultTimes)
            {
                faultTimes.Add(DateTime.UtcNow);
            }

            return SocketError.TooManyOpenSockets;
        });
        await using var server = await TestServer.StartAsync(PoolKind.Workers, services: s => s.AddSingleton<ISocketAcceptor>(acceptor));

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

    /// <summary>The socket's own accept, unless <c>fault</c> names an error to throw instead.</summary>
    private sealed class FaultyAcceptor(Func<SocketError?> fault) : ISocketAcceptor
    {
        public ValueTask<Socket> AcceptAsync(Socket listening, CancellationToken cancellationToken) =>
            fault() is { } error ? throw new SocketException((int)error) : listening.AcceptAsync(cancellationToken);
    }
}
