using System.Net.Sockets;
using EchoServer.Connections;
using EchoServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoServer.FaultTests;

/// <summary>Each fault ends only its own connection, is logged once with its reason, and leaves the counters right.</summary>
public sealed class ConnectionFaultTests
{
    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task Reset_half_close_instant_close_and_a_throwing_session_each_end_only_their_own_connection(string pool)
    {
        // Connection 5's socket is disposed under its session, which the echo loops do not expect: the session throws.
        await using var server = await TestServer.StartAsync(Pools.Kind(pool), services: s => s.AddSingleton<IConnectionStage>(new DisposeSocketOf(5)));

        // A bystander echoes throughout and must never notice.
        using var bystander = await EchoClient.ConnectAsync(server.EndPoint); // connection 1
        await bystander.RoundTripAsync([0]);

        using (var resetter = await EchoClient.ConnectAsync(server.EndPoint)) // 2: reset mid-echo
        {
            await resetter.Socket.SendAsync(new byte[1 << 20], SocketFlags.None);
            resetter.Reset();
        }

        using (var halfCloser = await EchoClient.ConnectAsync(server.EndPoint)) // 3: half-close
        {
            await halfCloser.Socket.SendAsync(new byte[] { 1, 2, 3 }, SocketFlags.None);
            halfCloser.Socket.Shutdown(SocketShutdown.Send);
            Assert.Equal([1, 2, 3], await halfCloser.ReadToEndAsync());
        }

        (await EchoClient.ConnectAsync(server.EndPoint)).Dispose(); // 4: connect and close at once

        using (var victim = await EchoClient.ConnectAsync(server.EndPoint)) // 5: its session throws
        {
            Assert.True(await victim.IsClosedByServerAsync(), "the faulting session's client is closed");
        }

        Assert.Equal([9, 9], await bystander.RoundTripAsync([9, 9]));
        // A connection leaves the open count a moment before its close line is written: wait for both.
        await Eventually.True(() => server.Service.Counters.Active == 1 && server.Logs.Named("ConnectionClosed").Count() == 4, "every connection but the bystander to close and be logged");

        var closes = server.Logs.Named("ConnectionClosed").Select(e => e.Message).ToList();
        Assert.Equal(4, closes.Count);
        Assert.Contains(closes, m => m.StartsWith("Connection 2 closed: reason=reset", StringComparison.Ordinal));
        Assert.Contains(closes, m => m.StartsWith("Connection 3 closed: reason=client-closed", StringComparison.Ordinal) && m.Contains("in=3 B, out=3 B", StringComparison.Ordinal));
        Assert.Contains(closes, m => m.StartsWith("Connection 4 closed: reason=client-closed", StringComparison.Ordinal) && m.Contains("in=0 B", StringComparison.Ordinal));
        Assert.Contains(closes, m => m.StartsWith("Connection 5 closed: reason=error", StringComparison.Ordinal));
        var failure = Assert.Single(server.Logs.Named("SessionFailed"));
        Assert.IsType<ObjectDisposedException>(failure.Exception);
        Assert.Equal(4, server.Service.Counters.Served);
        Assert.Equal(0, server.Service.Counters.Refused);
        Assert.DoesNotContain(server.Logs.Entries, e => e.Level >= LogLevel.Warning && e.EventId.Name != "SessionFailed");
    }

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task A_thousand_resets_mid_echo_leave_the_server_healthy_and_log_nothing_above_Debug(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool));
        var payload = new byte[64 * 1024];
        for (int batch = 0; batch < 10; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
            {
                using var client = await EchoClient.ConnectAsync(server.EndPoint);
                await client.Socket.SendAsync(payload, SocketFlags.None);
                await client.Socket.ReceiveAsync(new byte[1], SocketFlags.None); // the echo is under way
                client.Reset();
            }));
        }

        await Eventually.True(() => server.Service.Counters.Accepted == 1000 && server.Service.Counters.Active == 0, "all 1000 connections to be closed");
        Assert.DoesNotContain(server.Logs.Entries, e => e.Level > LogLevel.Information);
        var reasons = server.Logs.Named("ConnectionClosed").Select(e => e.Message.Split("reason=")[1].Split(',')[0]).ToHashSet();
        Assert.Subset(new HashSet<string> { "reset", "client-closed" }, reasons);
        using var next = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([1], await next.RoundTripAsync([1]));
    }

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task All_256_byte_values_CRLF_and_telnet_IAC_come_back_unchanged(string pool)
    {
        await using var server = await TestServer.StartAsync(Pools.Kind(pool));
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var every = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        byte[] telnet = [0xFF, 0xFD, 0x18, 0xFF, 0xFB, 0x01, (byte)'h', (byte)'i', 0x0D, 0x0A, 0x0D, 0x00, 0xFF, 0xFF];

        Assert.Equal(every, await client.RoundTripAsync(every));
        Assert.Equal(telnet, await client.RoundTripAsync(telnet));
        Assert.Equal("line\r\n"u8.ToArray(), await client.RoundTripAsync("line\r\n"u8.ToArray()));
    }

    /// <summary>A stage that disposes one connection's socket before it reaches the pool, as a fault under its session.</summary>
    private sealed class DisposeSocketOf(long id) : IConnectionStage
    {
        public ValueTask OnConnectionAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
        {
            if (connection.Id == id)
            {
                connection.Socket.Dispose();
            }

            return next(connection, cancellationToken);
        }
    }
}
