using System.Net;
using System.Net.Sockets;
using EchoServer.Datagrams;
using EchoServer.Diagnostics;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EchoServer.Tests.Datagrams;

public sealed class UdpEchoTests
{
    public static TheoryData<string> Pools => new() { "workers", "executor" };

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Every_size_from_0_to_the_maximum_comes_back_byte_exact_over_IPv4_and_IPv6(string pool)
    {
        using var echo = Start(pool, IPAddress.IPv6Any, new UdpSettings { RatePerIp = 0 });
        var random = new Random(862);
        int[] sizes = [0, 1, 2, 63, 64, 512, 1472, 1473, 9000, 32_768, 65_000, 65_507];
        foreach (var (server, family) in new[] { (IPAddress.Loopback, AddressFamily.InterNetwork), (IPAddress.IPv6Loopback, AddressFamily.InterNetworkV6) })
        {
            using var client = Client(family);
            var target = new IPEndPoint(server, echo.LocalEndPoint.Port);
            var all = family == AddressFamily.InterNetworkV6 ? [.. sizes, 65_527] : sizes;
            foreach (int size in all)
            {
                var payload = new byte[size];
                random.NextBytes(payload);
                await client.SendToAsync(payload, target);
                var reply = await ReceiveAsync(client, $"the {size}-byte datagram over {family}");
                Assert.Equal(payload, reply.Data);
                Assert.Equal(server, reply.From.Address);
                Assert.Equal(echo.LocalEndPoint.Port, reply.From.Port);
            }
        }

        // A reply is counted once the send returns, which may be just after the client has it.
        await Eventually.True(() => echo.Counters.Echoed == echo.Counters.Received, "every datagram received to be counted as echoed");
        Assert.Equal(0, echo.Counters.DroppedTotal);
    }

    [Theory]
    [InlineData("workers", "0.0.0.0")]
    [InlineData("executor", "0.0.0.0")]
    [InlineData("workers", "::")]
    [InlineData("executor", "::")]
    public async Task A_reply_comes_from_the_address_the_datagram_was_sent_to_when_bound_to_every_address(string pool, string host)
    {
        // Any 127.x.y.z reaches loopback on Linux; the route's own source for it is 127.0.0.1. A connected
        // client socket only takes replies from the address it sent to.
        using var echo = Start(pool, IPAddress.Parse(host), new UdpSettings { RatePerIp = 0 });
        var asked = IPAddress.Parse("127.0.0.2");
        using var client = Client(AddressFamily.InterNetwork);
        await client.ConnectAsync(new IPEndPoint(asked, echo.LocalEndPoint.Port));
        byte[] payload = "from the address I asked"u8.ToArray();
        await client.SendAsync(payload);
        var buffer = new byte[100];
        int n = await Eventually.Completes(client.ReceiveAsync(buffer), "a reply from 127.0.0.2");
        Assert.Equal(payload, buffer[..n]);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_datagram_from_a_low_source_port_gets_nothing_and_is_counted(string pool)
    {
        using var echo = Start(pool, IPAddress.Loopback, new UdpSettings());
        using var client = Client(AddressFamily.InterNetwork, bind: false);
        try
        {
            client.Bind(new IPEndPoint(IPAddress.Loopback, 19)); // chargen's port
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AccessDenied or SocketError.AddressAlreadyInUse)
        {
            Assert.Fail($"cannot bind source port 19 here ({ex.SocketErrorCode}): the test needs root or CAP_NET_BIND_SERVICE, as CI has");
        }

        await client.SendToAsync("x"u8.ToArray(), echo.LocalEndPoint);
        await Eventually.True(() => echo.Counters.Dropped(DropReason.LowPort) == 1, "the low-port drop to be counted");
        Assert.Equal(0, client.Available); // decided and counted before any reply could be sent
        Assert.Equal(0, echo.Counters.Echoed);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_source_address_gets_at_most_its_budget_per_second(string pool)
    {
        var time = new FakeTimeProvider();
        using var echo = Start(pool, IPAddress.Loopback, new UdpSettings { RatePerIp = 10 }, time: time);
        using var client = Client(AddressFamily.InterNetwork);
        for (int i = 0; i < 30; i++)
        {
            await client.SendToAsync(new byte[] { (byte)i }, echo.LocalEndPoint);
        }

        await Eventually.True(() => echo.Counters.Received == 30, "all 30 datagrams to be received");
        await Eventually.True(() => echo.Counters.Echoed == 10, "the first second's budget of 10 to be echoed");
        await Eventually.True(() => echo.Counters.Dropped(DropReason.RateLimit) == 20, "the other 20 dropped for the budget");

        time.Advance(TimeSpan.FromMilliseconds(500)); // half a second refills half the budget
        for (int i = 0; i < 30; i++)
        {
            await client.SendToAsync(new byte[] { (byte)i }, echo.LocalEndPoint);
        }

        await Eventually.True(() => echo.Counters.Received == 60, "all 60 datagrams to be received");
        await Eventually.True(() => echo.Counters.Echoed == 15, "five more echoed after half a second");
        await Eventually.True(() => echo.Counters.Dropped(DropReason.RateLimit) == 45, "25 more dropped for the budget");
        Assert.Equal(15, echo.Counters.Echoed);
    }

    [Theory]
    [InlineData("workers", "reject")]
    [InlineData("workers", "drop-oldest")]
    [InlineData("workers", "wait")]
    [InlineData("executor", "reject")]
    [InlineData("executor", "drop-oldest")]
    [InlineData("executor", "wait")]
    public async Task Under_a_flood_every_datagram_is_echoed_or_dropped_for_the_policys_reason(string pool, string policy)
    {
        var whenFull = Enum.GetValues<WhenFull>().Single(w => w.ToName() == policy);
        var settings = new PoolSettings { Workers = 1, QueueCapacity = 2, WhenFull = whenFull };
        using var echo = Start(pool, IPAddress.Loopback, new UdpSettings { RatePerIp = 0 }, settings);
        using var client = Client(AddressFamily.InterNetwork);
        client.ReceiveBufferSize = 8 << 20;
        var payload = new byte[8192];
        const int sent = 2000;
        for (int i = 0; i < sent; i++)
        {
            client.SendTo(payload, echo.LocalEndPoint);
        }

        // The kernel may drop some before the loop reads them (UDP); what the loop read is all accounted for.
        await Eventually.True(
            () => echo.Load == default && echo.Counters.Received == echo.Counters.Echoed + echo.Counters.DroppedTotal,
            "every datagram received to be echoed or dropped");
        Assert.True(echo.Counters.Received > 0);
        var allowed = whenFull switch
        {
            WhenFull.Reject => DropReason.PoolSaturated,
            WhenFull.DropOldest => DropReason.DroppedOldest,
            _ => (DropReason?)null,
        };
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            if (reason != allowed)
            {
                Assert.True(echo.Counters.Dropped(reason) == 0, $"{reason.ToName()}: {echo.Counters.Dropped(reason)} drops under when-full {whenFull.ToName()}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task The_drain_stops_receiving_and_echoes_what_was_received(string pool)
    {
        var echo = Start(pool, IPAddress.Loopback, new UdpSettings { RatePerIp = 0 });
        using var client = Client(AddressFamily.InterNetwork);
        for (int i = 0; i < 100; i++)
        {
            await client.SendToAsync(new byte[] { (byte)i }, echo.LocalEndPoint);
        }

        await Eventually.True(() => echo.Counters.Received == 100, "100 datagrams to be received");
        await Eventually.Completes(echo.DrainAsync(TimeSpan.FromSeconds(10)), "the drain");
        Assert.Equal(100, echo.Counters.Echoed);

        await client.SendToAsync(new byte[] { 1 }, echo.LocalEndPoint); // after the drain: left in the kernel's buffer, unread
        for (int i = 0; i < 100; i++)
        {
            _ = await ReceiveAsync(client, $"reply {i}");
        }

        Assert.Equal(100, echo.Counters.Received);
        echo.Dispose();
    }

    private static UdpEcho Start(string pool, IPAddress host, UdpSettings settings, PoolSettings? poolSettings = null, TimeProvider? time = null)
    {
        var kind = pool == "workers" ? PoolKind.Workers : PoolKind.Executor;
        var echo = new UdpEcho(new IPEndPoint(host, 0), reusePort: false, settings, kind, poolSettings ?? new PoolSettings { Workers = 4 }, NullLogger.Instance, new BackgroundFaults(NullLogger.Instance), time ?? TimeProvider.System);
        echo.Start();
        return echo;
    }

    private static Socket Client(AddressFamily family, bool bind = true)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        if (bind)
        {
            socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback, 0));
        }

        return socket;
    }

    private static async Task<(byte[] Data, IPEndPoint From)> ReceiveAsync(Socket client, string what)
    {
        var buffer = new byte[70_000];
        EndPoint any = new IPEndPoint(client.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        var result = await Eventually.Completes(client.ReceiveFromAsync(buffer, SocketFlags.None, any), what);
        return (buffer[..result.ReceivedBytes], (IPEndPoint)result.RemoteEndPoint);
    }
}
