using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using EchoServer.Connections;
using EchoServer.Diagnostics;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace EchoServer.Tests.Diagnostics;

/// <summary>The EchoServer meter's instruments, read the way dotnet-counters and exporters read them: through a MeterListener.</summary>
public sealed class MetricsTests
{
    private const string PoolKey = "echo.pool";
    private const string ReasonKey = "echo.close.reason";

    [Theory]
    [InlineData(PoolKind.Workers)]
    internal async Task Three_accepted_one_refused_and_the_echoed_bytes_show_on_every_instrument_with_its_tags(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { PoolSettings = TestServer.Pool(2, 1) });
        var meter = server.Service.Metrics.Meter;
        using var recorded = new Recorded(meter);
        string poolName = pool == PoolKind.Workers ? "workers" : "executor";

        using var first = await EchoClient.ConnectAsync(server.EndPoint);
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        await first.RoundTripAsync(new byte[1000]);
        await second.RoundTripAsync(new byte[234]);
        using var third = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Pool.Load.Queued == 1, "the third client to be queued");
        using var fourth = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.True(await fourth.IsClosedByServerAsync());
        await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted");

        recorded.Observe();
        Assert.Equal(4, recorded.Sum("echo.accepted_connections", (PoolKey, poolName)));
        Assert.Equal(1, recorded.Sum("echo.refused_connections", (PoolKey, poolName), (ReasonKey, "pool-saturated")));
        Assert.Equal(3, recorded.Last("echo.active_connections", (PoolKey, poolName)));
        Assert.Equal(1, recorded.Last("echo.pool.queue.length", (PoolKey, poolName)));
        Assert.Equal(2, recorded.Last("echo.pool.busy_slots", (PoolKey, poolName)));
        Assert.Equal(1234, recorded.Sum("echo.network.io", (PoolKey, poolName), ("network.io.direction", "receive")));
        Assert.Equal(1234, recorded.Sum("echo.network.io", (PoolKey, poolName), ("network.io.direction", "transmit")));
        Assert.Equal(2, recorded.Count("echo.pool.queue.wait", (PoolKey, poolName))); // the queued client has no grant yet

        // The refused client's duration is recorded when it closes; the first one's once it leaves.
        await Eventually.True(() => recorded.Count("echo.connection.duration", (PoolKey, poolName), (ReasonKey, "pool-saturated")) == 1, "the refused connection's duration");
        first.Dispose();
        await Eventually.True(() => recorded.Count("echo.connection.duration", (PoolKey, poolName), (ReasonKey, "client-closed")) == 1, "the first connection's duration");
        Assert.True(recorded.Values("echo.connection.duration").All(d => d > 0));
        Assert.Equal("s", recorded.Unit("echo.pool.queue.wait"));
        Assert.Equal("s", recorded.Unit("echo.connection.duration"));
        Assert.Equal("By", recorded.Unit("echo.network.io"));
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Every_grant_of_a_slot_records_its_wait_even_for_a_session_that_started_long_before(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { PoolSettings = TestServer.Pool(1, 1) });
        using var recorded = new Recorded(server.Service.Metrics.Meter);

        // In the executor the client's session starts with a first burst, long before the one that waits; in the
        // worker pool the client waits for a worker from its start, behind the hog.
        EchoClient? client = pool == PoolKind.Executor ? await EchoClient.ConnectAsync(server.EndPoint) : null;
        if (client is not null)
        {
            await client.RoundTripAsync([1, 2, 3]);
        }

        // The worker pool's only worker is held by a client that never reads; the executor's slot by a long
        // burst (a client that never reads holds none there).
        using var holder = pool == PoolKind.Executor ? SlotHolder.Install(server) : null;
        using IDisposable hog = holder is null ? await SlotHog.ConnectAsync(server.EndPoint) : await holder.ConnectHeldAsync(server);
        await Eventually.True(() => holder is not null || SlotHog.AreBlocked(server), "the hog to hold the only worker, blocked in a send");
        client ??= await EchoClient.ConnectAsync(server.EndPoint);
        using var _ = client;
        var echo = client.RoundTripAsync([4, 5, 6]);
        await Eventually.True(() => server.Service.Pool.Load.Queued == 1, "the client to wait for the slot");
        var queued = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromMilliseconds(100));
        var leastWait = queued.Elapsed; // it waited at least this long: queued before, granted after
        holder?.Dispose();
        hog.Dispose();

        Assert.Equal([4, 5, 6], await echo);
        Assert.Contains(recorded.Values("echo.pool.queue.wait"), w => w >= leastWait.TotalSeconds);
    }

    [Theory]
    [InlineData(PoolKind.Executor)]
    internal async Task A_connection_closed_for_its_proxy_header_is_counted_as_refused_with_the_proxy_header_reason(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { ProxyProtocol = ProxyProtocolMode.Required });
        using var recorded = new Recorded(server.Service.Metrics.Meter);

        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        await client.Socket.SendAsync("not a header\r\n"u8.ToArray(), System.Net.Sockets.SocketFlags.None);
        Assert.True(await client.IsClosedByServerAsync());
        await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted");

        Assert.Equal(1, recorded.Sum("echo.accepted_connections", ("echo.pool", "executor")));
        await Eventually.True(() => recorded.Sum("echo.refused_connections", ("echo.pool", "executor"), ("echo.close.reason", "proxy-header")) == 1, "the refusal to be recorded");
        await Eventually.True(() => recorded.Count("echo.connection.duration", ("echo.pool", "executor"), ("echo.close.reason", "proxy-header")) == 1, "the close to be recorded"); // recorded just after the refusal is counted
    }

    [Fact]
    internal void The_oldest_queue_wait_gauge_is_the_longest_wait_in_progress_now_in_seconds()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IReadOnlyList<TimeSpan> waiting = [];
        using var metrics = new ServerMetrics(services.GetRequiredService<IMeterFactory>(), "workers");
        metrics.Observe(() => 0, () => default, () => waiting, () => (0, 0));
        using var recorded = new Recorded(metrics.Meter);

        recorded.Observe();
        Assert.Equal(0, recorded.Last("echo.pool.queue.oldest_wait", (PoolKey, "workers")));

        waiting = [TimeSpan.FromMilliseconds(1500), TimeSpan.FromMilliseconds(250)];
        recorded.Observe();
        Assert.Equal(1.5, recorded.Last("echo.pool.queue.oldest_wait", (PoolKey, "workers")));
        Assert.Equal("s", recorded.Unit("echo.pool.queue.oldest_wait"));
    }

    [Theory]
    [InlineData(PoolKind.Workers)]
    [InlineData(PoolKind.Executor)]
    internal async Task Clients_waiting_for_the_only_slot_show_in_the_oldest_wait_gauge_before_any_wait_ends(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { PoolSettings = TestServer.Pool(1, 4) });
        using var recorded = new Recorded(server.Service.Metrics.Meter);
        string poolName = pool == PoolKind.Workers ? "workers" : "executor";
        // The worker pool's slot is held by a client that never reads; an executor's by a long burst (a client
        // that never reads gives its slot back while its echo waits).
        using var holder = pool == PoolKind.Executor ? SlotHolder.Install(server) : null;
        using IDisposable hog = holder is null ? await SlotHog.ConnectAsync(server.EndPoint) : await holder.ConnectHeldAsync(server);
        await Eventually.True(() => holder is not null || SlotHog.AreBlocked(server), "the hog to hold the only slot, blocked in a send");
        var sinceTheyCame = Stopwatch.StartNew();
        using var first = await EchoClient.ConnectAsync(server.EndPoint);
        await first.Socket.SendAsync(new byte[] { 1 });
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        await second.Socket.SendAsync(new byte[] { 2 });
        await Eventually.True(() => server.Service.Pool.Load.Queued == 2, "two clients waiting for the slot");

        // No wait of theirs has ended, so the histogram has nothing of them; the gauge has the older one's so far.
        recorded.Observe();
        Assert.InRange(recorded.Last("echo.pool.queue.oldest_wait", (PoolKey, poolName)), 1e-7, sinceTheyCame.Elapsed.TotalSeconds);
        Assert.Equal(2, server.Service.Pool.Load.Queued);
    }

    /// <summary>Every measurement of one meter instance (other tests' servers have their own).</summary>
    private sealed class Recorded : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();
        private readonly ConcurrentDictionary<string, string?> _units = new();

        public Recorded(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    _units[instrument.Name] = instrument.Unit;
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => _measurements.Enqueue((i.Name, v, tags.ToArray())));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => _measurements.Enqueue((i.Name, v, tags.ToArray())));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => _measurements.Enqueue((i.Name, v, tags.ToArray())));
            _listener.Start();
        }

        public void Observe() => _listener.RecordObservableInstruments();

        public double Sum(string name, params (string Key, string Value)[] tags) => Matching(name, tags).Sum(m => m.Value);

        public int Count(string name, params (string Key, string Value)[] tags) => Matching(name, tags).Count();

        public double Last(string name, params (string Key, string Value)[] tags) => Matching(name, tags).Last().Value;

        public IEnumerable<double> Values(string name) => _measurements.Where(m => m.Name == name).Select(m => m.Value);

        public string? Unit(string name) => _units.GetValueOrDefault(name);

        public void Dispose() => _listener.Dispose();

        private IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string name, (string Key, string Value)[] tags) =>
            _measurements.Where(m => m.Name == name && tags.All(t => m.Tags.Any(mt => mt.Key == t.Key && Equals(mt.Value, t.Value))));
    }
}
