using System.Net.Sockets;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.Listening;

/// <summary>The server over loopback, the same suite for both pools.</summary>
public sealed class EchoIntegrationTests
{
    public static TheoryData<string> Pools => new() { "workers", "executor" };

    /// <summary>Tests where a connected client holds a slot for its life: the worker pool's model (the executor's own are in ExecutorIntegrationTests).</summary>
    public static TheoryData<string> ThreadPerClient => new() { "workers" };

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Echoes_random_payloads_byte_exact_whatever_the_chunking(string pool)
    {
        await using var server = await TestServer.StartAsync(Kind(pool));
        var random = new Random(862);
        int[] sizes = [1, 2, 7, 100, 1460, 4096, 16 * 1024, 65_537, 1 << 20, 8 << 20];
        foreach (int size in sizes)
        {
            var payload = new byte[size];
            random.NextBytes(payload);
            using var client = await EchoClient.ConnectAsync(server.EndPoint);

            // Write in random chunks while reading, as a real client would; then half-close and read to the end.
            var writer = Task.Run(async () =>
            {
                var chunker = new Random(size);
                for (int offset = 0; offset < size;)
                {
                    int chunk = Math.Min(size - offset, chunker.Next(1, 64 * 1024));
                    offset += await client.Socket.SendAsync(payload.AsMemory(offset, chunk), SocketFlags.None);
                }

                client.Socket.Shutdown(SocketShutdown.Send);
            });
            var echoed = await client.ReadToEndAsync(TimeSpan.FromSeconds(30));
            await writer;

            Assert.Equal(size, echoed.Length);
            Assert.True(payload.AsSpan().SequenceEqual(echoed), $"payload of {size} bytes came back changed");
        }
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Serves_200_concurrent_clients_with_a_pool_of_256(string pool)
    {
        await using var server = await TestServer.StartAsync(Kind(pool), o => o with { PoolSettings = TestServer.Pool(256, 1024) });
        var clients = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => EchoClient.ConnectAsync(server.EndPoint)));
        try
        {
            // Every client is connected before any echoes, so all 200 sessions are open at once.
            var results = await Task.WhenAll(clients.Select(async (c, i) =>
            {
                var payload = BitConverter.GetBytes(i).Concat(new byte[1000]).ToArray();
                payload[^1] = (byte)i;
                var echoed = await c.RoundTripAsync(payload);
                return payload.AsSpan().SequenceEqual(echoed);
            }));
            Assert.All(results, Assert.True);
            Assert.Equal(200, server.Service.Counters.Active);
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Dispose();
            }
        }

        await Eventually.True(() => server.Service.Counters.Active == 0, "every connection to be closed");
        Assert.Equal(200, server.Service.Counters.Served);
    }

    [Theory]
    [MemberData(nameof(ThreadPerClient))]
    public async Task With_two_workers_and_a_queue_of_one_the_fourth_concurrent_client_is_refused(string pool)
    {
        await using var server = await TestServer.StartAsync(Kind(pool), o => o with { PoolSettings = TestServer.Pool(2, 1) });
        using var first = await EchoClient.ConnectAsync(server.EndPoint);
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        await first.RoundTripAsync([1]);
        await second.RoundTripAsync([2]);
        using var third = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Pool.Load.Queued == 1, "the third client to be queued");

        using var fourth = await EchoClient.ConnectAsync(server.EndPoint);

        Assert.True(await fourth.IsClosedByServerAsync(), "the fourth client should be closed at once");
        await Eventually.True(
            () => server.Logs.Named("ConnectionClosed").Any(e => e.Message.StartsWith("Connection 4 closed: reason=pool-saturated", StringComparison.Ordinal)),
            "the refused client's close line");
        var warning = Assert.Single(server.Logs.Named("ConnectionRefused"));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("pool-saturated", warning.Message, StringComparison.Ordinal);

        // The queued client is served as soon as a worker frees up.
        first.Dispose();
        Assert.Equal([3], await third.RoundTripAsync([3]));
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task At_the_connection_limit_a_new_client_waits_until_one_leaves(string pool)
    {
        await using var server = await TestServer.StartAsync(Kind(pool), o => o with { MaxConnections = 2 });
        using var first = await EchoClient.ConnectAsync(server.EndPoint);
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        await first.RoundTripAsync([1]);
        await second.RoundTripAsync([2]);

        // The kernel completes the handshake from its backlog; the server must not accept or echo yet.
        using var third = await EchoClient.ConnectAsync(server.EndPoint);
        var echo = third.RoundTripAsync([3], TimeSpan.FromSeconds(20));
        await Task.Delay(300); // an expected wait: no echo may arrive while both slots are held
        Assert.False(echo.IsCompleted, "a third client must not be served while two hold every slot");
        Assert.Equal(2, server.Service.Counters.Accepted);

        first.Dispose();

        Assert.Equal([3], await Eventually.Completes(echo, "the third client to be served once a slot frees"));
        Assert.Equal(3, server.Service.Counters.Accepted);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Half_close_returns_every_byte_then_the_server_closes(string pool)
    {
        await using var server = await TestServer.StartAsync(Kind(pool));
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var payload = new byte[300_000];
        new Random(7).NextBytes(payload);

        var send = Task.Run(async () =>
        {
            await client.Socket.SendAsync(payload, SocketFlags.None);
            client.Socket.Shutdown(SocketShutdown.Send);
        });
        var echoed = await client.ReadToEndAsync();
        await send;

        Assert.Equal(payload, echoed);
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        Assert.Contains("reason=client-closed", Assert.Single(server.Logs.Named("ConnectionClosed")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Logs_one_accept_and_one_close_line_per_connection_with_bytes_worker_and_reason(string pool)
    {
        await using var server = await TestServer.StartAsync(Kind(pool));
        using (var client = await EchoClient.ConnectAsync(server.EndPoint))
        {
            await client.RoundTripAsync(new byte[1234]);
            client.Socket.Shutdown(SocketShutdown.Send);
            Assert.Empty(await client.ReadToEndAsync());
        }

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        string name = pool;
        var accepted = Assert.Single(server.Logs.Named("ConnectionAccepted"));
        Assert.Equal(LogLevel.Information, accepted.Level);
        Assert.Matches($@"^Connection 1 accepted from 127\.0\.0\.1:\d+ \(pool={name}\)$", accepted.Message);
        var closed = Assert.Single(server.Logs.Named("ConnectionClosed"));
        Assert.Equal(LogLevel.Information, closed.Level);
        string worker = pool == "workers" ? @" worker=echo-worker-\d+," : string.Empty; // the executor has no worker per connection
        Assert.Matches(
            $@"^Connection 1 closed: reason=client-closed,{worker} queued=\d+\.\d ms, in=1234 B, out=1234 B, duration=\d+\.\d ms \(pool={name}\)$",
            closed.Message);
        Assert.Single(server.Logs.Named("SessionStarted"));
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_client_reset_is_a_normal_end_logged_without_warnings(string pool)
    {
        await using var server = await TestServer.StartAsync(Kind(pool));
        using (var client = await EchoClient.ConnectAsync(server.EndPoint))
        {
            await client.RoundTripAsync([1, 2, 3]);
            client.Reset();
        }

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        var closed = Assert.Single(server.Logs.Named("ConnectionClosed"));
        Assert.Contains("reason=reset", closed.Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Debug, closed.Level); // a reset storm must not flood an Information log
        Assert.DoesNotContain(server.Logs.Entries, e => e.Level >= LogLevel.Warning);

        // The worker that saw the reset serves the next client.
        using var next = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal([9], await next.RoundTripAsync([9]));
    }

    [Theory]
    [MemberData(nameof(ThreadPerClient))]
    public async Task Stop_refuses_new_connects_closes_queued_clients_and_drains_then_closes_active_ones(string pool)
    {
        var server = await TestServer.StartAsync(Kind(pool), o => o with { PoolSettings = TestServer.Pool(1, 4), ShutdownTimeout = TimeSpan.FromMilliseconds(300) });
        await using var _ = server;
        var endPoint = server.EndPoint;
        using var active = await EchoClient.ConnectAsync(endPoint);
        await active.RoundTripAsync([1]);
        using var queued = await EchoClient.ConnectAsync(endPoint);
        await Eventually.True(() => server.Service.Pool.Load.Queued == 1, "the second client to be queued");

        await Eventually.Completes(server.StopAsync(), "the server to stop");

        Assert.True(await queued.IsClosedByServerAsync(), "the queued client is closed");
        Assert.True(await active.IsClosedByServerAsync(), "the active client is closed after the drain deadline");
        await Assert.ThrowsAnyAsync<SocketException>(() => EchoClient.ConnectAsync(endPoint));
        var closes = server.Logs.Named("ConnectionClosed").Select(e => e.Message).ToList();
        Assert.Equal(2, closes.Count);
        Assert.All(closes, m => Assert.Contains("reason=shutdown", m, StringComparison.Ordinal));
        Assert.Single(server.Logs.Named("DrainDeadline"));
        Assert.Matches(@"^Stopped after \d+\.\d s: connections served 1, refused 1; bytes received 1, echoed 1 \(pool=", Assert.Single(server.Logs.Named("Stopped")).Message);
        Assert.Equal(0, server.Service.Counters.Active);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Stop_waits_for_active_sessions_that_finish_within_the_drain(string pool)
    {
        var server = await TestServer.StartAsync(Kind(pool), o => o with { ShutdownTimeout = TimeSpan.FromSeconds(20) });
        await using var _ = server;
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        await client.RoundTripAsync([1]);

        var stop = server.StopAsync();
        await Eventually.True(() => server.Logs.Named("Draining").Any(), "the drain to begin");

        // Still echoing during the drain: no byte already sent is lost.
        Assert.Equal([2, 3], await client.RoundTripAsync([2, 3]));
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.Empty(await client.ReadToEndAsync());
        await Eventually.Completes(stop, "the stop to finish once the client left");
        Assert.Contains("reason=client-closed", Assert.Single(server.Logs.Named("ConnectionClosed")).Message, StringComparison.Ordinal);
        Assert.Empty(server.Logs.Named("DrainDeadline"));
    }

    private static PoolKind Kind(string pool) => pool == "workers" ? PoolKind.Workers : PoolKind.Executor;
}
