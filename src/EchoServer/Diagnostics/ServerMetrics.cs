using System.Diagnostics.Metrics;
using HdrHistogram;

namespace EchoServer.Diagnostics;

/// <summary>
/// The server's instruments on the <c>EchoServer</c> meter (OpenTelemetry-style names, every one tagged with
/// the pool). With no listener attached each recording is a flag check; <c>dotnet-counters</c>, the
/// Prometheus endpoint or a <see cref="MeterListener"/> turn them on.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "EchoServer";

    private const long HighestQueueWaitUs = 3_600_000_000; // an hour

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _closed;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _sessionDuration;
    private readonly KeyValuePair<string, object?> _pool;
    private readonly Recorder _queueWaits = HistogramFactory.With64BitBucketSize()
        .WithValuesFrom(1).WithValuesUpTo(HighestQueueWaitUs).WithPrecisionOf(2)
        .WithThreadSafeWrites().WithThreadSafeReads().Create();

    /// <param name="meterFactory">Creates the meter (one per host, so that tests can tell servers apart).</param>
    /// <param name="pool">The pool's name, the tag on every instrument.</param>
    /// <param name="active">Open connections now.</param>
    /// <param name="queueLength">Clients waiting for a worker now.</param>
    /// <param name="busyWorkers">Workers serving now.</param>
    /// <param name="bytes">Bytes received and sent since start, counted when read: the echo loop records nothing per message.</param>
    public ServerMetrics(IMeterFactory meterFactory, string pool, Func<long> active, Func<int> queueLength, Func<int> busyWorkers, Func<(long Received, long Sent)> bytes)
    {
        Meter = meterFactory.Create(MeterName);
        _pool = new KeyValuePair<string, object?>("pool", pool);
        _accepted = Meter.CreateCounter<long>("echo.connections.accepted", "{connection}", "Connections accepted.");
        _refused = Meter.CreateCounter<long>("echo.connections.refused", "{connection}", "Connections closed without being served, by reason.");
        _closed = Meter.CreateCounter<long>("echo.connections.closed", "{connection}", "Connections closed, by reason.");
        Meter.CreateObservableUpDownCounter("echo.connections.active", () => new Measurement<long>(active(), _pool), "{connection}", "Connections open now, queued or being echoed.");
        Meter.CreateObservableGauge("echo.pool.queue.length", () => new Measurement<int>(queueLength(), _pool), "{connection}", "Clients waiting for a worker.");
        Meter.CreateObservableGauge("echo.pool.busy_workers", () => new Measurement<int>(busyWorkers(), _pool), "{worker}", "Workers serving a client now.");
        _queueWait = Meter.CreateHistogram<double>("echo.pool.queue.wait", "ms", "Time from accept until a worker took the client.");
        _sessionDuration = Meter.CreateHistogram<double>("echo.session.duration", "ms", "Time from accept to close of a served connection.");
        Meter.CreateObservableCounter("echo.bytes.received", () => new Measurement<long>(bytes().Received, _pool), "By", "Bytes received from clients.");
        Meter.CreateObservableCounter("echo.bytes.sent", () => new Measurement<long>(bytes().Sent, _pool), "By", "Bytes echoed to clients.");
    }

    public Meter Meter { get; }

    public void Accepted() => _accepted.Add(1, _pool);

    public void Refused(string reason) => _refused.Add(1, _pool, new KeyValuePair<string, object?>("reason", reason));

    public void Closed(string reason, TimeSpan? sessionDuration)
    {
        _closed.Add(1, _pool, new KeyValuePair<string, object?>("reason", reason));
        if (sessionDuration is { } duration)
        {
            _sessionDuration.Record(duration.TotalMilliseconds, _pool);
        }
    }

    public void Started(TimeSpan queueWait)
    {
        _queueWait.Record(queueWait.TotalMilliseconds, _pool);
        _queueWaits.RecordValue(Math.Clamp((long)queueWait.TotalMicroseconds, 1, HighestQueueWaitUs));
    }

    /// <summary>Queue waits since the last call, for the periodic stats line.</summary>
    public HistogramBase TakeQueueWaits() => _queueWaits.GetIntervalHistogram();

    public void Dispose() => Meter.Dispose();
}
