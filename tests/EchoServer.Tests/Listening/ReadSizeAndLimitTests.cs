using System.Net.Sockets;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.Listening;

/// <summary>Reads never exceed --buffer-size; a full connection limit is a warning, and its end is logged.</summary>
public sealed class ReadSizeAndLimitTests
{
    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task A_read_is_never_larger_than_the_buffer_size_asked_for(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { BufferSize = 20_000 });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var payload = new byte[1 << 20];
        var echo = client.ReadExactlyAsync(payload.Length);
        await client.Socket.SendAsync(payload, SocketFlags.None);
        await Eventually.Completes(echo, "the 1 MiB echo");

        var connection = Assert.Single(server.Service.Tracker.Connections.Snapshot());
        Assert.InRange(connection.Progress.LargestRead, 1, 20_000);
        Assert.True(connection.Progress.LargestRead > 16_384, $"largest read {connection.Progress.LargestRead} B: reads should fill the 20,000 B asked for");
    }

    [Fact]
    internal async Task Holding_every_connection_slot_logs_a_warning_with_the_backlog_then_the_resume()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { MaxConnections = 1 });
        using var first = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([1], await first.RoundTripAsync([1]));
        using var waiting = await EchoClient.ConnectAsync(server.EndPoint); // completes in the kernel backlog

        await Eventually.True(() => server.Logs.Named("ConnectionLimitReached").Any(), "the connection-limit warning");
        var warning = server.Logs.Named("ConnectionLimitReached").First();
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Matches(@"^Every connection slot is held \(max-connections=1\): .*; clients waiting in the listen backlog: (\d+|unknown)$", warning.Message); // the first pause: nothing held back

        first.Dispose();
        Assert.Equal([2], await waiting.RoundTripAsync([2]));
        await Eventually.True(() => server.Logs.Named("AcceptingResumed").Any(e => e.Level == LogLevel.Information), "the resume line");
    }
}
