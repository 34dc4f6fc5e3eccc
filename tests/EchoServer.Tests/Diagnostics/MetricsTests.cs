using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Diagnostics;

/// <summary>The EchoServer meter's instruments, read the way dotnet-counters and exporters read them: through a MeterListener.</summary>
public sealed class MetricsTests
{
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
        await Eventually.True(() => server.Service.Tracker.Counters.Refused == 1, "the refusal to be counted");

        recorded.Observe();
        Assert.Equal(4, recorded.Sum("echo.connections.accepted", ("pool", poolName)));
        Assert.Equal(1, recorded.Sum("echo.connections.refused", ("pool", poolName), ("reason", "pool-saturated")));
        Assert.Equal(3, recorded.Last("echo.connections.active", ("pool", poolName)));
        Assert.Equal(1, recorded.Last("echo.pool.queue.length", ("pool", poolName)));
        Assert.Equal(2, recorded.Last("echo.pool.busy_workers", ("pool", poolName)));
        Assert.Equal(1234, recorded.Sum("echo.bytes.received", ("pool", poolName)));
        Assert.Equal(1234, recorded.Sum("echo.bytes.sent", ("pool", poolName)));
        Assert.Equal(2, recorded.Count("echo.pool.queue.wait", ("pool", poolName)));

        first.Dispose();
        await Eventually.True(() => recorded.Count("echo.session.duration", ("pool", poolName)) == 1, "the first session's duration");
        Assert.Equal(1, recorded.Sum("echo.connections.closed", ("pool", poolName), ("reason", "client-closed")));
        Assert.Equal(1, recorded.Sum("echo.connections.closed", ("pool", poolName), ("reason", "pool-saturated")));
        Assert.True(recorded.Values("echo.session.duration").Single() > 0);
        Assert.Equal("ms", recorded.Unit("echo.pool.queue.wait"));
        Assert.Equal("By", recorded.Unit("echo.bytes.sent"));
    }

    [Theory]
    [InlineData(PoolKind.Executor)]
    internal async Task A_connection_closed_for_its_proxy_header_is_counted_as_refused_with_the_proxy_header_reason(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { ProxyProtocol = true });
        using var recorded = new Recorded(server.Service.Metrics.Meter);

        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        await client.Socket.SendAsync("not a header\r\n"u8.ToArray(), System.Net.Sockets.SocketFlags.None);
        Assert.True(await client.IsClosedByServerAsync());
        await Eventually.True(() => server.Service.Tracker.Counters.Refused == 1, "the refusal to be counted");

        Assert.Equal(1, recorded.Sum("echo.connections.accepted", ("pool", "executor")));
        Assert.Equal(1, recorded.Sum("echo.connections.refused", ("pool", "executor"), ("reason", "proxy-header")));
        Assert.Equal(1, recorded.Sum("echo.connections.closed", ("pool", "executor"), ("reason", "proxy-header")));
        Assert.Equal(0, recorded.Count("echo.session.duration"));
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
