using System.Net;
using System.Net.Sockets;
using EchoServer.TestSupport;

namespace EchoServer.FaultTests;

/// <summary>One address cannot take the whole pool.</summary>
public sealed class PerAddressLimitTests
{
    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task The_third_connection_from_one_address_is_refused_while_another_address_is_served(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with { Host = IPAddress.Any, MaxConnectionsPerIp = 2 });
        var endPoint = new IPEndPoint(IPAddress.Loopback, server.EndPoint.Port);
        using var first = await EchoClient.ConnectAsync(endPoint);
        using var second = await EchoClient.ConnectAsync(endPoint);
        await first.RoundTripAsync([1]);
        await second.RoundTripAsync([2]);

        using var third = await EchoClient.ConnectAsync(endPoint);
        Assert.True(await third.IsClosedByServerAsync(), "the third connection from 127.0.0.1 is refused");
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=per-ip-limit", StringComparison.Ordinal)), "the per-ip-limit close line");
        Assert.Contains("per-ip-limit", Assert.Single(server.Logs.Named("ConnectionRefused")).Message, StringComparison.Ordinal);

        // Another loopback address is another client.
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        other.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await other.ConnectAsync(endPoint);
        await other.SendAsync(new byte[] { 9 }, SocketFlags.None);
        var buffer = new byte[1];
        Assert.Equal(1, await other.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(Eventually.Soon));

        // When one of the first two leaves, the address may connect again.
        first.Dispose();
        await Eventually.True(() => server.Service.Counters.Active == 2, "the first connection to close");
        using var again = await EchoClient.ConnectAsync(endPoint);
        Assert.Equal([4], await again.RoundTripAsync([4]));
    }
}
