using System.Net.Sockets;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Echo;

/// <summary>A session a stage gave a stream (as TLS and fault plans do) echoes through it, in both pools, as the socket loops do.</summary>
public sealed class StreamEchoLoopTests
{
    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Four_mebibytes_come_back_byte_exact_through_the_stream_then_a_half_close_gets_our_FIN(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { BufferSize = 4096 });
        int streams = 0;
        server.Stage.OnConnection = connection =>
        {
            connection.Stream = new WrappedStream(new NetworkStream(connection.Socket, ownsSocket: false));
            connection.AddDetail("stage", "a stream, wrapped");
            Interlocked.Increment(ref streams);
        };

        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var payload = new byte[4 << 20];
        new Random(7).NextBytes(payload);
        var reading = client.ReadToEndAsync(TimeSpan.FromSeconds(60));
        for (int sent = 0; sent < payload.Length;)
        {
            int piece = Math.Min(payload.Length - sent, 1 + (sent % 70_001));
            sent += await client.Socket.SendAsync(payload.AsMemory(sent, piece));
        }

        client.Socket.Shutdown(SocketShutdown.Send);
        var echoed = await reading;
        Assert.Equal(1, streams);
        Assert.Equal(payload.Length, echoed.Length);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echo differs from what was sent");
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        var closed = server.Logs.Named("ConnectionClosed").Single().Message;
        Assert.Contains("reason=client-closed", closed, StringComparison.Ordinal);
        Assert.Contains($"in={payload.Length} B, out={payload.Length} B", closed, StringComparison.Ordinal);
        Assert.Contains("stage=\"a stream, wrapped\"", closed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_executor_session_on_a_stream_holds_no_slot_while_its_client_is_quiet()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(1, 1) });
        server.Stage.OnConnection = connection => connection.Stream = new WrappedStream(new NetworkStream(connection.Socket, ownsSocket: false));
        var quiet = new List<EchoClient>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                var client = await EchoClient.ConnectAsync(server.EndPoint);
                quiet.Add(client);
                Assert.Equal([(byte)i], await client.RoundTripAsync([(byte)i]));
            }

            await Eventually.True(() => server.Service.Pool.Load == new PoolLoad(0, 0), "twenty quiet stream sessions to hold no slot");
            for (int i = 0; i < quiet.Count; i++)
            {
                Assert.Equal([(byte)(i + 100)], await quiet[i].RoundTripAsync([(byte)(i + 100)]));
            }
        }
        finally
        {
            quiet.ForEach(c => c.Dispose());
        }
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task A_client_reset_under_a_stream_ends_the_session_as_reset_with_no_error_line(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool);
        server.Stage.OnConnection = connection => connection.Stream = new WrappedStream(new NetworkStream(connection.Socket, ownsSocket: false));
        var client = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([1, 2], await client.RoundTripAsync([1, 2]));
        client.Reset();
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        Assert.Contains("reason=reset", server.Logs.Named("ConnectionClosed").Single().Message, StringComparison.Ordinal);
        Assert.Empty(server.Logs.Named("SessionFailed"));
    }

    /// <summary>A plain wrapper: what a stage's stream looks like to the loop, with nothing of the socket's.</summary>
    private sealed class WrappedStream(Stream inner) : PassThroughStream(inner);
}
