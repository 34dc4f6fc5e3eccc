using System.Diagnostics;
using System.Net.Sockets;
using EchoServer.Echo;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Listening;

/// <summary>The executor bounds work, not connections: a client holds a slot only while it has data to echo.</summary>
public sealed class ExecutorIntegrationTests
{
    [Fact]
    public async Task With_defaults_five_thousand_silent_connections_do_not_delay_a_well_behaved_client()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { Port = 0 });
        var silent = new List<EchoClient>();
        try
        {
            for (int batch = 0; batch < 50; batch++)
            {
                silent.AddRange(await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => EchoClient.ConnectAsync(server.EndPoint))));
            }

            await Eventually.True(() => server.Service.Counters.Active == 5000, "all 5,000 silent connections to be accepted", TimeSpan.FromSeconds(30));
            Assert.Equal(new PoolLoad(0, 0), server.Service.Pool.Load);

            var times = new List<double>();
            for (int i = 0; i < 5; i++)
            {
                var clock = Stopwatch.StartNew();
                using var client = await EchoClient.ConnectAsync(server.EndPoint);
                Assert.Equal([1, 2, 3], await client.RoundTripAsync([1, 2, 3]));
                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            Assert.True(times[2] < 100, $"connect and echo took {string.Join(", ", times.Select(t => $"{t:F1}"))} ms beside 5,000 silent connections");
        }
        finally
        {
            silent.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_slot_is_held_only_while_echoing_then_clients_with_data_queue_and_the_rest_are_refused()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(1, 1) });
        using var idle = await EchoClient.ConnectAsync(server.EndPoint);
        using var served = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([1], await served.RoundTripAsync([1]));
        await Eventually.True(() => Receiving(server) == 2 && server.Service.Pool.Load == new PoolLoad(0, 0), "both clients idle, holding no slot");

        using var holder = SlotHolder.Install(server);
        using var held = await holder.ConnectHeldAsync(server);
        await served.Socket.SendAsync(new byte[] { 2 });
        await Eventually.True(() => server.Service.Pool.Load.Queued == 1, "a client with data to wait for the slot");
        using var late = await EchoClient.ConnectAsync(server.EndPoint);
        await late.Socket.SendAsync(new byte[] { 3 });
        Assert.True(await late.IsClosedByServerAsync(), "a client with data is refused while the slot is busy and the queue full");
        await Eventually.True(() => server.Logs.Named("ConnectionRefused").Any(e => e.Message.Contains("pool-saturated", StringComparison.Ordinal)), "the refusal line");

        holder.Dispose();
        Assert.Equal([0], await held.ReadExactlyAsync(1));
        Assert.Equal([2], await served.ReadExactlyAsync(1));
        Assert.Equal([4], await idle.RoundTripAsync([4]));
    }

    [Fact]
    public async Task Queue_timeout_closes_an_open_connection_whose_data_waited_too_long_for_a_slot()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(1, 4, queueTimeout: TimeSpan.FromMilliseconds(200)) });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([1], await client.RoundTripAsync([1]));
        using var holder = SlotHolder.Install(server);
        using var held = await holder.ConnectHeldAsync(server);

        await client.Socket.SendAsync(new byte[] { 2 });
        Assert.Empty(await client.ReadToEndAsync());
        await Eventually.True(
            () => server.Logs.Named("ConnectionClosed").Any(e => e.Message.Contains("reason=queue-timeout", StringComparison.Ordinal) && e.Message.Contains("in=1 B, out=1 B", StringComparison.Ordinal)),
            "a queue-timeout close line for the client served once");
    }

    [Fact]
    public async Task A_fast_client_gives_its_slot_back_between_turns()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(1, 4) });
        using var fast = await EchoClient.ConnectAsync(server.EndPoint);
        var payload = new byte[8 << 20];
        var streaming = Task.Run(async () =>
        {
            var echo = fast.ReadExactlyAsync(payload.Length, TimeSpan.FromSeconds(30));
            await fast.Socket.SendAsync(payload, SocketFlags.None);
            return await echo;
        });
        await Eventually.True(() => server.Service.Connections.Snapshot().Any(c => c.Progress.BytesIn > 0), "the fast client to be echoing");

        using var other = await EchoClient.ConnectAsync(server.EndPoint);
        try
        {
            Assert.Equal([9], await other.RoundTripAsync([9], TimeSpan.FromSeconds(3)));
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("not echoed beside a fast client:\n" + server.Service.Snapshot());
        }
        Assert.Equal(payload.Length, (await Eventually.Completes(streaming, "the 8 MiB echo")).Length);
    }

    [Fact]
    public async Task The_snapshot_counts_idle_and_sending_sessions_and_lists_only_those_holding_a_slot()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(2, 4) });
        using var idle = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => Receiving(server) == 1, "one idle session");
        using var holder = SlotHolder.Install(server);
        using var held = await holder.ConnectHeldAsync(server);
        using var hog = await SlotHog.ConnectAsync(server.EndPoint);
        await Eventually.True(() => SlotHog.AreBlocked(server) && Receiving(server) == 1, "one idle session, one holding a slot and one waiting for its client to read");

        string snapshot = server.Service.Snapshot();
        Assert.Contains("sessions: open=3 idle=1 sending=1 holding a slot (1):", snapshot, StringComparison.Ordinal);
        Assert.Matches(@"#2 127\.0\.0\.1:\d+ since .*echoing", snapshot);
        Assert.Equal(1, server.Service.Pool.Load.Busy);
    }

    private static int Receiving(TestServer server) => server.Service.Connections.Snapshot().Count(c => c.Progress.Waiting.Kind == SessionWait.Receive);
}
