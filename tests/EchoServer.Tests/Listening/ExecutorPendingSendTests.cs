using System.Diagnostics;
using System.Net.Sockets;
using EchoServer.Echo;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Listening;

/// <summary>An executor session whose client is slow to take its echo waits for that send holding no slot, only its unsent bytes.</summary>
public sealed class ExecutorPendingSendTests
{
    private static readonly int BufferSize = new ServerOptions().BufferSize;

    [Fact]
    public async Task Clients_that_never_read_hold_no_slot_and_do_not_delay_a_well_behaved_client()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(2, 64), SendTimeout = TimeSpan.FromSeconds(60) });
        var hogs = new List<SlotHog>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                hogs.Add(await SlotHog.ConnectAsync(server.EndPoint));
            }

            // Two at least, however the slots were held: eight once none keeps a slot while its client does not read.
            await Eventually.True(() => StuckInSend(server) >= 2, "clients that never read to be stuck in a send");

            using var client = await EchoClient.ConnectAsync(server.EndPoint);
            byte[] payload = [1, 2, 3];
            try
            {
                Assert.Equal(payload, await client.RoundTripAsync(payload, TimeSpan.FromSeconds(10)));
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"no echo within 10 s beside eight clients that never read (send timeout 60 s):\n{server.Service.Snapshot()}");
            }

            await Eventually.True(() => StuckInSend(server) == 8 && server.Service.Pool.Load == new PoolLoad(0, 0), "all eight stuck in a send, holding no slot");

            // What a stuck session keeps is the part of one read its client has not taken: at most one buffer.
            foreach (var stuck in server.Service.Connections.Snapshot().Where(c => c.Progress.Waiting.Kind == SessionWait.Send))
            {
                Assert.InRange(stuck.BytesIn - stuck.BytesOut, 1, BufferSize);
            }
        }
        finally
        {
            hogs.ForEach(h => h.Dispose());
        }
    }

    [Fact]
    public async Task Send_timeout_resets_a_client_that_never_reads_while_its_session_holds_no_slot()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(1, 4), SendTimeout = TimeSpan.FromSeconds(1) });
        using var hog = await SlotHog.ConnectAsync(server.EndPoint);
        await Eventually.True(() => SlotHog.AreBlocked(server) && server.Service.Pool.Load.Busy == 0, "the client that never reads to be waited for, holding no slot");
        var stalled = Stopwatch.StartNew();

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=send-timeout", StringComparison.Ordinal)), "the send-timeout close", TimeSpan.FromSeconds(5));
        Assert.True(stalled.Elapsed < TimeSpan.FromSeconds(2.2), $"closed {stalled.Elapsed.TotalSeconds:F2} s after the echo stalled (send timeout 1 s)");
        await Eventually.Completes(hog.Sending, "the reset to end the client's sends");

        using var next = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([7], await next.RoundTripAsync([7]));
    }

    [Fact]
    public async Task A_client_that_reads_late_and_slowly_gets_every_byte_counted_as_echoed()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(1, 4) });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var payload = new byte[8 << 20]; // more than the socket buffers hold, so the echo waits for the client
        new Random(19).NextBytes(payload);
        var sending = Task.Run(async () =>
        {
            await client.Socket.SendAsync(payload, SocketFlags.None);
            client.Socket.Shutdown(SocketShutdown.Send);
        });
        await Eventually.True(() => StuckInSend(server) == 1, "the echo to wait for the client to read");

        using var received = new MemoryStream();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var chunk = new byte[64 * 1024];
        int n;
        while ((n = await client.Socket.ReceiveAsync(chunk, SocketFlags.None, deadline.Token)) > 0)
        {
            received.Write(chunk, 0, n);
            await Task.Delay(1, deadline.Token); // a slow reader: the server's sends wait again and again
        }

        await Eventually.Completes(sending, "the client's send");
        Assert.True(payload.AsSpan().SequenceEqual(received.ToArray()), $"echo differs: {received.Length} B back of {payload.Length} B");
        await Eventually.True(
            () => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=client-closed", StringComparison.Ordinal) && e.Message.Contains($"in={payload.Length} B, out={payload.Length} B", StringComparison.Ordinal)),
            "a close line counting every byte in and out");
    }

    private static int StuckInSend(TestServer server) =>
        server.Service.Connections.Snapshot().Count(c => c.Progress.Waiting is (SessionWait.Send, var since) && Stopwatch.GetElapsedTime(since) > TimeSpan.FromMilliseconds(200));
}
