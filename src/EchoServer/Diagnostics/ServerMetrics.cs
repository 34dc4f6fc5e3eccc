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
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;
    private readonly KeyValuePair<string, object?> _pool;
    private readonly Recorder _queueWaits = HistogramFactory.With64BitBucketSize()
        .WithValuesFrom(1).WithValuesUpTo(HighestQueueWaitUs).WithPrecisionOf(2)
        .WithThreadSafeWrites().WithThreadSafeReads().Create();

    public ServerMetrics(IMeterFactory meterFactory, string pool, Func<long> active, Func<int> queueLength, Func<int> busyWorkers)
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
        _bytesReceived = Meter.CreateCounter<long>("echo.bytes.received", "By", "Bytes received from clients.");
        _bytesSent = Meter.CreateCounter<long>("echo.bytes.sent", "By", "Bytes echoed to clients.");
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

    // Per message: check the flag first so that an unobserved counter costs one load.
    public void BytesReceived(int count)
    {
        if (_bytesReceived.Enabled)
        {
            _bytesReceived.Add(count, _pool);
        }
    }

    public void BytesSent(int count)
    {
        if (_bytesSent.Enabled)
        {
            _bytesSent.Add(count, _pool);
        }
    }

    /// <summary>Queue waits since the last call, for the periodic stats line.</summary>
    public HistogramBase TakeQueueWaits() => _queueWaits.GetIntervalHistogram();

    public void Dispose() => Meter.Dispose();
}
