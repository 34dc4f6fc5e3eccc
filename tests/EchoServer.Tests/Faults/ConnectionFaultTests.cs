using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using EchoServer.Faults;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Faults;

/// <summary>Each connection fault, in both pools, measured from the client's side.</summary>
public sealed class ConnectionFaultTests
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(2); // the machine is shared: late is allowed, early is not

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task A_delay_holds_every_echo_back_by_at_least_the_delay_and_the_close_line_says_fault_delay(PoolKind pool)
    {
        var delay = TimeSpan.FromMilliseconds(150);
        await using var server = await Start(pool, new FaultSettings { Delay = delay });
        using (var client = await EchoClient.ConnectAsync(server.EndPoint))
        {
            for (int i = 0; i < 3; i++)
            {
                long start = Stopwatch.GetTimestamp();
                Assert.Equal([1, 2, 3], await client.RoundTripAsync([1, 2, 3]));
                var roundTrip = Stopwatch.GetElapsedTime(start);
                Assert.InRange(roundTrip, delay, delay + Margin);
            }
        }

        var closed = await CloseLine(server);
        Assert.Contains("reason=client-closed", closed, StringComparison.Ordinal);
        Assert.Contains("fault=delay", closed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Jitter_adds_a_random_extra_within_its_bound(PoolKind pool)
    {
        var jitter = TimeSpan.FromMilliseconds(100);
        await using var server = await Start(pool, new FaultSettings { Jitter = jitter });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var roundTrips = new List<TimeSpan>();
        for (int i = 0; i < 12; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await client.RoundTripAsync([7]);
            roundTrips.Add(Stopwatch.GetElapsedTime(start));
        }

        Assert.All(roundTrips, r => Assert.True(r < jitter + Margin, $"a round trip took {r.TotalMilliseconds:F0} ms"));

        // Uniform in 0..100 ms: all twelve under 20 ms has a chance of 0.2^12.
        Assert.Contains(roundTrips, r => r > TimeSpan.FromMilliseconds(20));
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Chunks_arrive_as_pieces_of_the_chunk_size_a_delay_apart(PoolKind pool)
    {
        var delay = TimeSpan.FromMilliseconds(60);
        await using var server = await Start(pool, new FaultSettings { Chunk = 100, Delay = delay });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var payload = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        await client.Socket.SendAsync(payload);
        long start = Stopwatch.GetTimestamp();
        var reads = new List<int>();
        var echoed = new List<byte>();
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Eventually.Soon);
        while (echoed.Count < payload.Length)
        {
            int n = await client.Socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            Assert.NotEqual(0, n);
            reads.Add(n);
            echoed.AddRange(buffer.AsSpan(0, n));
        }

        var took = Stopwatch.GetElapsedTime(start);
        Assert.Equal(payload, echoed);

        // A piece is one segment: a read holds whole pieces, and with 60 ms between them most come alone.
        Assert.All(reads, n => Assert.Equal(0, n % 100));
        Assert.True(reads.Count >= 3, $"reads: {string.Join(", ", reads)}");
        Assert.True(took >= delay * 9 * 0.95, $"ten pieces came in {took.TotalMilliseconds:F0} ms");
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Bandwidth_holds_the_echo_to_its_rate_over_a_second(PoolKind pool)
    {
        const int Rate = 64 * 1024;
        await using var server = await Start(pool, new FaultSettings { Bandwidth = Rate });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        using var stop = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            var block = new byte[16 * 1024];
            while (!stop.IsCancellationRequested)
            {
                await client.Socket.SendAsync(block, SocketFlags.None, stop.Token);
            }
        });

        var buffer = new byte[64 * 1024];
        using var cts = new CancellationTokenSource(Eventually.Soon);
        await client.Socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token); // the first bytes: the clock starts
        long start = Stopwatch.GetTimestamp();
        long received = 0;
        while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(1))
        {
            received += await client.Socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => sending.WaitAsync(TimeSpan.FromSeconds(30)));
        double perSecond = received / elapsed.TotalSeconds;
        Assert.InRange(perSecond, Rate * 0.6, Rate * 1.25); // a loaded machine may fall behind the rate, never ahead of it
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Close_after_delivers_exactly_its_bytes_then_a_FIN(PoolKind pool)
    {
        await using var server = await Start(pool, new FaultSettings { CloseAfter = 1000 });
        using (var client = await EchoClient.ConnectAsync(server.EndPoint))
        {
            var payload = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray();
            await client.Socket.SendAsync(payload);
            var echoed = await client.ReadToEndAsync();
            Assert.Equal(payload[..1000], echoed);
        }

        var closed = await CloseLine(server);
        Assert.Contains("reason=fault", closed, StringComparison.Ordinal);
        Assert.Contains("out=1000 B", closed, StringComparison.Ordinal);
        Assert.Contains("fault=close-after", closed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Close_after_with_a_delay_and_a_client_that_sends_more_still_ends_with_its_bytes_and_a_FIN(PoolKind pool)
    {
        await using var server = await Start(pool, new FaultSettings { CloseAfter = 4, Delay = TimeSpan.FromMilliseconds(20) });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        await client.Socket.SendAsync("hello\n"u8.ToArray());
        Assert.Equal("hell"u8.ToArray(), await client.ReadToEndAsync());
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Reset_after_delivers_exactly_its_bytes_then_a_reset(PoolKind pool)
    {
        await using var server = await Start(pool, new FaultSettings { ResetAfter = 100_000 });
        using (var client = await EchoClient.ConnectAsync(server.EndPoint))
        {
            var payload = new byte[150_000];
            new Random(3).NextBytes(payload);
            await client.Socket.SendAsync(payload);
            using var received = new MemoryStream();
            var buffer = new byte[8192];
            using var cts = new CancellationTokenSource(Eventually.Soon);
            var error = await Assert.ThrowsAsync<SocketException>(async () =>
            {
                while (true)
                {
                    int n = await client.Socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                    Assert.NotEqual(0, n); // a FIN here would be the wrong ending
                    received.Write(buffer, 0, n);
                }
            });
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
            Assert.Equal(payload[..100_000], received.ToArray());
        }

        var closed = await CloseLine(server);
        Assert.Contains("reason=fault", closed, StringComparison.Ordinal);
        Assert.Contains("out=100000 B", closed, StringComparison.Ordinal);
        Assert.Contains("fault=reset-after", closed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task A_stall_stops_reading_and_echoing_for_its_time_once_its_bytes_were_echoed(PoolKind pool)
    {
        var stall = TimeSpan.FromSeconds(1);
        await using var server = await Start(pool, new FaultSettings { StallAfter = 1000, StallFor = stall });
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        long start = Stopwatch.GetTimestamp();
        await client.RoundTripAsync(new byte[1000]);
        var before = Stopwatch.GetElapsedTime(start);
        Assert.True(before < stall, "the bytes before the stall came back at once");

        // The stall starts once the 1000 bytes were echoed, before this client had them: from their send it is whole.
        await client.RoundTripAsync([1], within: stall + Margin);
        var stalled = Stopwatch.GetElapsedTime(start);
        Assert.InRange(stalled, stall, stall + before + Margin);

        start = Stopwatch.GetTimestamp();
        await client.RoundTripAsync([2]);
        Assert.True(Stopwatch.GetElapsedTime(start) < stall, "one stall only");
    }

    [Fact]
    public async Task A_delay_of_200_ms_on_an_executor_with_2_slots_still_serves_50_clients_at_once()
    {
        var delay = TimeSpan.FromMilliseconds(200);
        await using var server = await TestServer.StartAsync(new ServerOptions { Pool = PoolKind.Executor, Port = 0, PoolSettings = TestServer.Pool(2, 100), Faults = new FaultSettings { Delay = delay } });
        var clients = new List<EchoClient>();
        try
        {
            for (int i = 0; i < 50; i++)
            {
                clients.Add(await EchoClient.ConnectAsync(server.EndPoint));
            }

            long start = Stopwatch.GetTimestamp();
            var echoes = clients.Select((c, i) => c.RoundTripAsync([(byte)i])).ToArray();
            await Task.WhenAll(echoes);
            var took = Stopwatch.GetElapsedTime(start);

            // Holding a slot through each delay, two slots would need 50 x 200 ms / 2 = 5 s.
            Assert.True(took < TimeSpan.FromSeconds(3.5), $"50 delayed echoes took {took.TotalMilliseconds:F0} ms");
            Assert.True(took >= delay * 0.95);
            Assert.All(echoes.Select((e, i) => (e.Result, i)), x => Assert.Equal([(byte)x.i], x.Result));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task The_fault_rate_faults_its_share_of_connections_and_a_seed_repeats_the_same_choices()
    {
        const int Connections = 300;
        var first = await FaultedIds(seed: 11, rate: 0.3, Connections);
        var again = await FaultedIds(seed: 11, rate: 0.3, Connections);
        var other = await FaultedIds(seed: 12, rate: 0.3, Connections);

        // 300 x 0.3 = 90, σ ≈ 7.9: within four σ.
        Assert.InRange(first.Count, 58, 122);
        Assert.InRange(other.Count, 58, 122);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Without_a_seed_the_rate_still_holds()
    {
        var faulted = await FaultedIds(seed: null, rate: 0.5, 300);

        // 150, σ ≈ 8.7: within five σ.
        Assert.InRange(faulted.Count, 107, 193);
    }

    [Fact]
    public async Task A_faulted_connection_carries_its_faults_on_the_duration_metric_and_in_the_snapshot()
    {
        await using var server = await Start(PoolKind.Workers, new FaultSettings { Chunk = 10, Rate = 1 });
        using var listener = new MeterListener();
        var tags = new List<KeyValuePair<string, object?>[]>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, server.Service.Metrics.Meter) && instrument.Name == "echo.connection.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, t, _) =>
        {
            lock (tags)
            {
                tags.Add(t.ToArray());
            }
        });
        listener.Start();

        using (var client = await EchoClient.ConnectAsync(server.EndPoint))
        {
            await client.RoundTripAsync(new byte[25]);
            var snapshot = server.Service.CaptureSnapshot();
            var busy = Assert.Single(snapshot.Busy);
            Assert.Equal("chunk", busy.Client.Details?["fault"]);
        }

        await CloseLine(server);
        await Eventually.True(() => { lock (tags) { return tags.Count == 1; } }, "the duration to be recorded");
        Assert.Contains(new KeyValuePair<string, object?>("echo.fault", "chunk"), tags[0]);
    }

    [Fact]
    public async Task The_snapshot_counts_the_faulted_executor_sessions_that_wait_holding_no_slot()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { Faults = new FaultSettings { Delay = TimeSpan.FromSeconds(1), Rate = 1, Seed = 3 } });
        using (var client = await EchoClient.ConnectAsync(server.EndPoint))
        {
            var echo = client.RoundTripAsync([1]);
            await Eventually.True(() => server.Service.CaptureSnapshot().Faults?.Open == 1, "the faulted session to be counted");
            var snapshot = server.Service.CaptureSnapshot();
            Assert.Empty(snapshot.Busy); // waiting on its delay's timer, not in a slot
            Assert.Contains("\"faults\":{\"inForce\":\"delay=1s, rate=1, seed=3\",\"open\":1,\"faulted\":1}", System.Text.Json.JsonSerializer.Serialize(snapshot, SnapshotJsonContext.Default.SnapshotData), StringComparison.Ordinal);
            Assert.Contains("faults: delay=1s, rate=1, seed=3; faulted connections open=1 since-start=1", server.Service.Snapshot(), StringComparison.Ordinal);
            await echo;
        }

        await Eventually.True(() => server.Service.CaptureSnapshot().Faults is { Open: 0, Faulted: 1 }, "the close to be counted");
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task The_faults_shape_the_stream_an_earlier_stage_set_and_its_close_comes_before_our_FIN(PoolKind pool)
    {
        await using var server = await Start(pool, new FaultSettings { Chunk = 10 });
        RecordingStream? earlier = null;
        server.Stage.OnConnection = connection => connection.Stream = earlier = new RecordingStream(new NetworkStream(connection.Socket, ownsSocket: false));
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var payload = Enumerable.Range(0, 25).Select(i => (byte)i).ToArray();
        await client.Socket.SendAsync(payload);
        client.Socket.Shutdown(SocketShutdown.Send);

        Assert.Equal(payload, await client.ReadToEndAsync());
        Assert.NotNull(earlier);
        Assert.Equal([10, 10, 5], earlier.Writes);
        Assert.Equal(1, earlier.Shutdowns);
        Assert.Contains("fault=chunk", await CloseLine(server), StringComparison.Ordinal);
    }

    private static Task<TestServer> Start(PoolKind pool, FaultSettings faults) =>
        TestServer.StartAsync(pool, o => o with { Faults = faults });

    private static async Task<string> CloseLine(TestServer server)
    {
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        return Assert.Single(server.Logs.Named("ConnectionClosed")).Message;
    }

    /// <summary>The ids of the connections a server with these choices faulted, out of <paramref name="count"/> made one after another.</summary>
    private static async Task<List<long>> FaultedIds(int? seed, double rate, int count)
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { LogLevel = Microsoft.Extensions.Logging.LogLevel.Information, Faults = new FaultSettings { Chunk = 1, Rate = rate, Seed = seed } });
        for (int i = 0; i < count; i++)
        {
            using var client = await EchoClient.ConnectAsync(server.EndPoint);
            Assert.Equal([5, 6], await client.RoundTripAsync([5, 6]));
        }

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Count() == count, "every close line");
        return [.. server.Logs.Named("ConnectionClosed")
            .Where(e => e.Message.Contains("fault=chunk", StringComparison.Ordinal))
            .Select(e => long.Parse(e.Message.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture))
            .Order()];
    }

    /// <summary>A stage's stream (as TLS's would be) that records each write and its close before our FIN.</summary>
    private sealed class RecordingStream(Stream inner) : PassThroughStream(inner), EchoServer.Echo.ISendShutdown
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<int> _writes = new();
        private int _shutdowns;

        public int[] Writes => [.. _writes];

        public int Shutdowns => Volatile.Read(ref _shutdowns);

        public override void Write(byte[] buffer, int offset, int count)
        {
            _writes.Enqueue(count);
            base.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _writes.Enqueue(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }

        public ValueTask ShutdownSendAsync()
        {
            Interlocked.Increment(ref _shutdowns);
            return ValueTask.CompletedTask;
        }
    }
}
