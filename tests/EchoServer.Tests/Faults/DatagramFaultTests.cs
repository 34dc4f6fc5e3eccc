using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoServer.Datagrams;
using EchoServer.Diagnostics;
using EchoServer.Faults;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoServer.Tests.Faults;

/// <summary>The datagram faults, in both pools, seen by a client: which datagrams come back, how often, how late.</summary>
public sealed class DatagramFaultTests
{
    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Drop_loses_its_share_counted_as_fault_and_a_seed_drops_the_same_datagrams_again(PoolKind pool)
    {
        var first = await Answered(pool, new FaultSettings { Drop = 0.3, Seed = 5 });
        var again = await Answered(pool, new FaultSettings { Drop = 0.3, Seed = 5 });
        var other = await Answered(pool, new FaultSettings { Drop = 0.3, Seed = 6 });

        // 200 x 0.7 = 140 answered, σ ≈ 6.5: within four σ.
        Assert.InRange(first.Count, 114, 166);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Duplicate_echoes_a_datagram_twice_and_the_rate_limits_it_to_its_share(PoolKind pool)
    {
        using var echo = Start(pool, new FaultSettings { Duplicate = 1, Rate = 0.5, Seed = 9 });
        using var client = Client();
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < 100; i++)
        {
            await client.SendToAsync(BitConverter.GetBytes(i), echo.LocalEndPoint);
        }

        await foreach (var number in Replies(client, TimeSpan.FromSeconds(1)))
        {
            counts[number] = counts.GetValueOrDefault(number) + 1;
        }

        Assert.Equal(100, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 1, 2));
        Assert.InRange(counts.Values.Count(c => c == 2), 30, 70); // 50, σ = 5
        Assert.Equal(100 + counts.Values.Count(c => c == 2), echo.Counters.Echoed);
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task A_delay_holds_each_reply_back(PoolKind pool)
    {
        var delay = TimeSpan.FromMilliseconds(150);
        using var echo = Start(pool, new FaultSettings { Delay = delay });
        using var client = Client();
        for (int i = 0; i < 3; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await client.SendToAsync(BitConverter.GetBytes(i), echo.LocalEndPoint);
            var reply = new byte[16];
            using var cts = new CancellationTokenSource(Eventually.Soon);
            int n = await client.ReceiveAsync(reply, SocketFlags.None, cts.Token);
            Assert.Equal(i, BitConverter.ToInt32(reply, 0));
            Assert.InRange(Stopwatch.GetElapsedTime(start), delay, delay + TimeSpan.FromSeconds(2));
            Assert.Equal(4, n);
        }
    }

    [Fact]
    public async Task A_delayed_datagram_holds_no_executor_slot_while_it_waits()
    {
        var delay = TimeSpan.FromMilliseconds(200);
        using var echo = Start(PoolKind.Executor, new FaultSettings { Delay = delay }, new PoolSettings { Workers = 2, QueueCapacity = 100 });
        using var client = Client();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 50; i++)
        {
            await client.SendToAsync(BitConverter.GetBytes(i), echo.LocalEndPoint);
        }

        int replies = 0;
        await foreach (var _ in Replies(client, TimeSpan.FromSeconds(1)))
        {
            if (++replies == 50)
            {
                break;
            }
        }

        var took = Stopwatch.GetElapsedTime(start);
        Assert.Equal(50, replies);

        // Two slots held through each delay would need 50 x 200 ms / 2 = 5 s.
        Assert.True(took < TimeSpan.FromSeconds(3.5), $"50 delayed replies took {took.TotalMilliseconds:F0} ms");
    }

    /// <summary>The numbers of the datagrams answered out of 200 sent.</summary>
    private static async Task<List<int>> Answered(PoolKind pool, FaultSettings faults)
    {
        using var echo = Start(pool, faults);
        using var client = Client();
        for (int i = 0; i < 200; i++)
        {
            await client.SendToAsync(BitConverter.GetBytes(i), echo.LocalEndPoint);
        }

        var answered = new List<int>();
        await foreach (var number in Replies(client, TimeSpan.FromSeconds(1)))
        {
            answered.Add(number);
        }

        await Eventually.True(() => echo.Counters.Received == 200, "every datagram received");
        Assert.Equal(200 - answered.Count, echo.Counters.Dropped(DropReason.Fault));
        answered.Sort();
        return answered;
    }

    /// <summary>The numbers in the replies until none came for <paramref name="quiet"/>.</summary>
    private static async IAsyncEnumerable<int> Replies(Socket client, TimeSpan quiet)
    {
        var buffer = new byte[16];
        while (true)
        {
            using var cts = new CancellationTokenSource(quiet);
            int n;
            try
            {
                n = await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            Assert.Equal(4, n);
            yield return BitConverter.ToInt32(buffer, 0);
        }
    }

    private static UdpEcho Start(PoolKind pool, FaultSettings faults, PoolSettings? poolSettings = null)
    {
        var echo = new UdpEcho(new IPEndPoint(IPAddress.Loopback, 0), reusePort: false, new UdpSettings { RatePerIp = 0 }, pool, poolSettings ?? new PoolSettings { Workers = 4, QueueCapacity = 1000 }, NullLogger.Instance, new BackgroundFaults(NullLogger.Instance), TimeProvider.System, injected: faults);
        echo.Start();
        return echo;
    }

    private static Socket Client()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.ReceiveBufferSize = 1 << 20;
        return socket;
    }
}
