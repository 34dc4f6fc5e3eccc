using System.Net.Sockets;
using EchoServer.Hosting;
using EchoServer.IoUring;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.IoUring;

/// <summary>The executor on the io_uring engine, over loopback: what a client sees, and the executor's rules kept.</summary>
public sealed class RingEngineTests
{
    [Fact]
    public async Task A_large_stream_comes_back_byte_exact_and_the_half_close_ends_the_session_as_client_closed()
    {
        await using var server = await StartAsync(o => o with { BufferSize = 4096 });
        Assert.Single(server.Logs.Named("RingStarted"));
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var sent = new byte[3 * 1024 * 1024 + 17];
        new Random(1).NextBytes(sent);

        var reading = client.ReadToEndAsync(TimeSpan.FromSeconds(60));
        await client.Socket.SendAsync(sent, SocketFlags.None);
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(sent, await reading);

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        Assert.StartsWith($"Connection 1 closed: reason=client-closed", Assert.Single(server.Logs.Named("ConnectionClosed")).Message, StringComparison.Ordinal);
        Assert.Equal(sent.Length, server.Service.Counters.BytesOut);
        Assert.Equal(new PoolLoad(0, 0), server.Service.Pool.Load);
    }

    [Fact]
    public async Task Two_hundred_clients_at_once_each_get_their_own_bytes_back()
    {
        await using var server = await StartAsync(o => o with { PoolSettings = TestServer.Pool(4, 1024) });
        var clients = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => EchoClient.ConnectAsync(server.EndPoint)));
        try
        {
            await Task.WhenAll(clients.Select(async (client, i) =>
            {
                for (int round = 0; round < 5; round++)
                {
                    var payload = new byte[1 + ((i * 37 + round * 101) % 9000)];
                    new Random(i * 10 + round).NextBytes(payload);
                    Assert.Equal(payload, await client.RoundTripAsync(payload, TimeSpan.FromSeconds(30)));
                }
            }));
        }
        finally
        {
            Array.ForEach(clients, c => c.Dispose());
        }

        await Eventually.True(() => server.Service.Counters.Active == 0, "every client to close");
        Assert.Equal(200, server.Service.Counters.Served);
        Assert.Equal(server.Service.Counters.BytesIn, server.Service.Counters.BytesOut);
    }

    [Fact]
    public async Task A_client_that_resets_ends_only_its_own_session_and_frees_its_slot()
    {
        await using var server = await StartAsync(o => o with { PoolSettings = TestServer.Pool(1, 4) });
        using var bystander = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([1], await bystander.RoundTripAsync([1]));

        using (var resetter = await EchoClient.ConnectAsync(server.EndPoint))
        {
            await resetter.Socket.SendAsync(new byte[1 << 20], SocketFlags.None);
            resetter.Reset();
        }

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(e => e.Message.StartsWith("Connection 2 closed: reason=reset", StringComparison.Ordinal)), "the reset's close line");
        Assert.Equal([2, 3], await bystander.RoundTripAsync([2, 3]));
        await Eventually.True(() => server.Service.Pool.Load == new PoolLoad(0, 0), "no slot held once both are quiet");
    }

    [Fact]
    public async Task With_one_slot_a_client_with_data_waits_its_turn_and_the_next_is_refused_then_both_served_in_order()
    {
        await using var server = await StartAsync(o => o with { PoolSettings = TestServer.Pool(1, 1) });
        using var holder = SlotHolder.Install(server);
        using var held = await holder.ConnectHeldAsync(server);

        using var waiting = await EchoClient.ConnectAsync(server.EndPoint);
        await waiting.Socket.SendAsync(new byte[] { 7 });
        await Eventually.True(() => server.Service.Pool.Load == new PoolLoad(1, 1), "the second client to queue for the slot");
        using var refused = await EchoClient.ConnectAsync(server.EndPoint);
        await refused.Socket.SendAsync(new byte[] { 8 });
        Assert.True(await refused.IsClosedByServerAsync(), "a client with data is refused while the slot is busy and the queue full");

        holder.Dispose();
        Assert.Equal([0], await held.ReadExactlyAsync(1));
        Assert.Equal([7], await waiting.ReadExactlyAsync(1));
        await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted (at its close, after the client saw it)");
    }

    [Fact]
    public async Task A_stop_ends_idle_sessions_with_a_fin_and_reports_them_as_shutdown()
    {
        var server = await StartAsync(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(5) });
        try
        {
            using var idle = await EchoClient.ConnectAsync(server.EndPoint);
            Assert.Equal([5], await idle.RoundTripAsync([5]));
            await Eventually.True(() => server.Service.CaptureSnapshot().Connections.Idle == 1, "the client to go idle");

            var stopping = server.StopAsync();
            Assert.Empty(await idle.ReadToEndAsync());
            await Eventually.Completes(stopping, "the stop", TimeSpan.FromSeconds(20));
            Assert.Contains(server.Logs.Named("ConnectionClosed"), e => e.Message.StartsWith("Connection 1 closed: reason=shutdown", StringComparison.Ordinal));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions> configure) =>
        TestServer.StartAsync(PoolKind.Executor, o => configure(o with { IoEngine = IoEngine.IoUring }));
}
