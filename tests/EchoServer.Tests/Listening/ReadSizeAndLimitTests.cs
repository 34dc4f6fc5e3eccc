using System.Net;
using System.Net.Sockets;
using EchoServer.Echo;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.Listening;

/// <summary>Reads never exceed --buffer-size; a full connection limit is a warning, and its end is logged.</summary>
public sealed class ReadSizeAndLimitTests
{
    [Fact]
    internal async Task A_read_fills_the_buffer_size_asked_for_past_16_KiB()
    {
        // 20,000 bytes queued before the session starts: a read of the 20,000 B asked for takes them at once, so
        // the echo takes one slot turn; a read capped below that would end its turn short and take a second one.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = await EchoClient.ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();
        var payload = new byte[20_000];
        await client.Socket.SendAsync(payload, SocketFlags.None);
        await Eventually.True(() => server.Available == payload.Length, "the whole payload to be queued");

        var gate = new CountingGate();
        var session = AsyncEchoLoop.RunAsync(server, new EchoProgress(), gate, bufferSize: 20_000, CancellationToken.None).AsTask();
        Assert.Equal(payload.Length, (await client.ReadExactlyAsync(payload.Length)).Length);
        Assert.Equal(1, gate.Turns);

        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(CloseReason.ClientClosed, await session);
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
        Assert.Matches(@"^Every connection permit is held \(max-connections=1\): .*; clients waiting in the listen backlog: (\d+|unknown)$", warning.Message); // the first pause: nothing held back

        first.Dispose();
        Assert.Equal([2], await waiting.RoundTripAsync([2]));
        await Eventually.True(() => server.Logs.Named("AcceptingResumed").Any(e => e.Level == LogLevel.Information), "the resume line");
    }

    /// <summary>A gate that always has a slot, and counts the turns.</summary>
    private sealed class CountingGate : ISlotGate
    {
        private int _turns;

        public int Turns => Volatile.Read(ref _turns);

        public ValueTask<CloseReason?> EnterAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _turns);
            return ValueTask.FromResult<CloseReason?>(null);
        }

        public void Exit()
        {
        }
    }
}
