using System.Net.Sockets;
using EchoServer.Hosting;
using EchoServer.TestSupport;

namespace EchoServer.FaultTests;

/// <summary>When the server ends a session itself, everything it echoed still reaches the client, then a FIN.</summary>
public sealed class GracefulCloseTests
{
    private const int Sent = 200_000; // fits in the socket buffers: the echo completes while the client does not read

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task An_idle_timeout_delivers_every_echoed_byte_then_closes_with_a_FIN(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        await client.Socket.SendAsync(Payload(), SocketFlags.None);

        // Read nothing until the server has closed the session for idleness.
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=idle-timeout", StringComparison.Ordinal)), "the idle-timeout close");

        Assert.Equal(Payload(), await client.ReadToEndAsync()); // a reset would throw or cut it short
        Assert.Contains(server.Logs.Named("ConnectionClosed"), e => e.Message.Contains($"in={Sent} B, out={Sent} B", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task The_drain_deadline_delivers_every_echoed_byte_then_closes_with_a_FIN(string pool)
    {
        var server = await TestServer.StartAsync(Pools.Kind(pool), o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(300) });
        await using var _ = server;
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        await client.Socket.SendAsync(Payload(), SocketFlags.None);
        await Eventually.True(() => server.Service.Connections.Snapshot().Any(c => c.BytesOut == Sent), "every byte echoed");

        await server.StopAsync();

        Assert.Contains(server.Logs.Named("ConnectionClosed"), e => e.Message.Contains("reason=shutdown", StringComparison.Ordinal) && e.Message.Contains($"out={Sent} B", StringComparison.Ordinal));
        Assert.Equal(Payload(), await client.ReadToEndAsync());
    }

    [Fact]
    public async Task A_second_server_cannot_bind_a_port_in_use()
    {
        await using var first = await TestServer.StartAsync(new ServerOptions { Port = 0 });
        var taken = new ServerOptions { Port = first.EndPoint.Port };

        var ex = await Assert.ThrowsAsync<SocketException>(() => TestServer.StartAsync(taken));
        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketErrorCode);
    }

    private static byte[] Payload() => [.. Enumerable.Range(0, Sent).Select(i => (byte)(i * 7))];
}
