using System.Diagnostics.Metrics;
using EchoServer.Pools;
using HdrHistogram;

namespace EchoServer.Diagnostics;

/// <summary>
/// The server's instruments on the <c>EchoServer</c> meter, named after the OpenTelemetry semantic conventions
/// where one fits (<c>kestrel.*</c> for connections, <c>*.network.io</c> for bytes) and in the <c>echo.*</c>
/// namespace otherwise; src/README.md lists them. Every one carries the pool. With no listener attached each
/// recording is a flag check; <c>dotnet-counters</c>, the Prometheus endpoint or a <see cref="MeterListener"/>
/// turn them on.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "EchoServer";

    /// <summary>The pool's name, as <c>--pool</c> spells it.</summary>
    public const string PoolAttribute = "echo.pool";

    /// <summary>How a connection ended, as <see cref="CloseReasonNames.ToName"/> spells it.</summary>
    public const string CloseReasonAttribute = "echo.close.reason";

    /// <summary>The semantic conventions' direction of a byte count: <c>receive</c> or <c>transmit</c>.</summary>
    public const string DirectionAttribute = "network.io.direction";

    /// <summary>The semantic conventions' transport attribute, on UDP's byte counts only (TCP's series keep their labels).</summary>
    public const string TransportAttribute = "network.transport";

    /// <summary>The faults a faulted connection was given (<c>delay+chunk</c>), on its duration only; absent on every other connection.</summary>
    public const string FaultAttribute = "echo.fault";

    /// <summary>Why a datagram was not echoed, as the UDP echo spells it.</summary>
    public const string DropReasonAttribute = "echo.drop.reason";

    private const long HighestQueueWaitUs = 3_600_000_000; // an hour

    // Slot waits are mostly well under 5 ms: fine steps below a millisecond, coarse ones up to a minute. The
    // zero bucket counts the grants that found a slot free.
    private static readonly double[] QueueWaitBuckets =
        [0, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    // Connections last from a refusal (microseconds) to a forgotten telnet (hours).
    private static readonly double[] ConnectionDurationBuckets =
        [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400];

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _refused;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _connectionDuration;
    private readonly KeyValuePair<string, object?> _pool;
    private Func<IReadOnlyList<TimeSpan>> _waiting = static () => []; // the queue's, once Observe has it
    private readonly Lock _readersLock = new();
    private Recorder[] _queueWaitReaders = [];

    /// <param name="meterFactory">Creates the meter (one per host, so that tests can tell servers apart).</param>
    /// <param name="pool">The pool's name, an attribute of every instrument.</param>
    public ServerMetrics(IMeterFactory meterFactory, string pool)
    {
        Meter = meterFactory.Create(MeterName);
        _pool = new KeyValuePair<string, object?>(PoolAttribute, pool);
        _accepted = Meter.CreateCounter<long>("echo.accepted_connections", "{connection}", "Connections accepted.");
        _refused = Meter.CreateCounter<long>(
            "echo.refused_connections", "{connection}", "Connections closed because the pool would not serve them (at accept, or a later burst in the executor), by reason.");
        _connectionDuration = CreateSeconds("echo.connection.duration", "Time from accept to close of every connection, by how it ended.", ConnectionDurationBuckets);
        _queueWait = CreateSeconds(
            "echo.pool.queue.wait", "How long a client with data waited for a slot: every grant of a slot (every burst in the executor), zero when one was free.", QueueWaitBuckets);
    }

    public Meter Meter { get; }

    public void Accepted() => _accepted.Add(1, _pool);

    public void Refused(string reason) => _refused.Add(1, _pool, new KeyValuePair<string, object?>(CloseReasonAttribute, reason));

    public void Closed(string reason, TimeSpan duration, string? fault = null)
    {
        KeyValuePair<string, object?> closeReason = new(CloseReasonAttribute, reason);
        if (fault is null)
        {
            _connectionDuration.Record(duration.TotalSeconds, _pool, closeReason);
        }
        else
        {
            _connectionDuration.Record(duration.TotalSeconds, _pool, closeReason, new KeyValuePair<string, object?>(FaultAttribute, fault));
        }
    }

    /// <summary>A slot (worker) was granted after <paramref name="waited"/>: for the instrument and every queue-wait reader.</summary>
    public void SlotGranted(TimeSpan waited)
    {
        _queueWait.Record(waited.TotalSeconds, _pool);
        var readers = Volatile.Read(ref _queueWaitReaders);
        if (readers.Length > 0)
        {
            long microseconds = Microseconds(waited);
            foreach (var reader in readers)
            {
                reader.RecordValue(microseconds);
            }
        }
    }

    /// <summary>
    /// Every slot grant's wait from now on, for one reader of intervals (the stats line, the live view): each
    /// takes its own intervals with <see cref="QueueWaitReader.Read"/>, and a grant records nothing for a reader
    /// that was never asked for.
    /// </summary>
    public QueueWaitReader TrackQueueWaits()
    {
        var recorder = HistogramFactory.With64BitBucketSize()
            .WithValuesFrom(1).WithValuesUpTo(HighestQueueWaitUs).WithPrecisionOf(2)
            .WithThreadSafeWrites().WithThreadSafeReads().Create();
        lock (_readersLock)
        {
            Volatile.Write(ref _queueWaitReaders, [.. _queueWaitReaders, recorder]);
        }

        return new QueueWaitReader(recorder, WaitsInProgress);
    }

    /// <summary>
    /// Adds the instruments read when collected: open connections, the pool's queue and busy slots, the oldest
    /// wait in progress, and the bytes (so the echo loop records nothing per message). Called once the pool
    /// exists, which records into this meter.
    /// </summary>
    /// <param name="active">Open connections now.</param>
    /// <param name="load">The pool's busy slots and queue now.</param>
    /// <param name="waiting">How long each client waiting for a slot now has waited so far (the queue's snapshot).</param>
    /// <param name="bytes">Bytes received and sent since start.</param>
    /// <param name="datagrams">The UDP echo's totals since start; null without --udp.</param>
    public void Observe(Func<long> active, Func<PoolLoad> load, Func<IReadOnlyList<TimeSpan>> waiting, Func<(long Received, long Sent)> bytes, Func<DatagramTotals?>? datagrams = null)
    {
        _waiting = waiting;
        KeyValuePair<string, object?> receive = new(DirectionAttribute, "receive");
        KeyValuePair<string, object?> transmit = new(DirectionAttribute, "transmit");
        Meter.CreateObservableUpDownCounter("echo.active_connections", () => new Measurement<long>(active(), _pool), "{connection}", "Connections open now, idle, queued or being echoed.");
        Meter.CreateObservableUpDownCounter("echo.pool.queue.length", () => new Measurement<int>(load().Queued, _pool), "{connection}", "Clients with data waiting for a slot now.");
        Meter.CreateObservableUpDownCounter("echo.pool.busy_slots", () => new Measurement<int>(load().Busy, _pool), "{slot}", "Slots held now: by a client for its whole life (workers), by a burst (executor).");

        // The histogram records a wait only when it ends: clients starved for a minute leave it empty. This shows them.
        Meter.CreateObservableGauge(
            "echo.pool.queue.oldest_wait",
            () => new Measurement<double>(OldestWait(WaitsInProgress()).TotalSeconds, _pool),
            "s",
            "How long the oldest client waiting for a slot now has waited so far; zero when none waits.");
        Meter.CreateObservableCounter<long>(
            "echo.network.io",
            () =>
            {
                var (received, sent) = bytes();
                if (datagrams?.Invoke() is { } udp)
                {
                    KeyValuePair<string, object?> transport = new(TransportAttribute, "udp");
                    return [new(received, _pool, receive), new(sent, _pool, transmit), new(udp.BytesIn, _pool, receive, transport), new(udp.BytesOut, _pool, transmit, transport)];
                }

                return [new(received, _pool, receive), new(sent, _pool, transmit)];
            },
            "By",
            "Bytes received from clients and echoed to them (UDP's with network.transport=udp).");
        if (datagrams is not null)
        {
            Meter.CreateObservableCounter<long>(
                "echo.udp.datagrams",
                () => datagrams() is { } udp ? [new(udp.Received, _pool, receive), new(udp.Echoed, _pool, transmit)] : [],
                "{datagram}",
                "UDP datagrams received, and echoed.");
            Meter.CreateObservableCounter<long>(
                "echo.udp.dropped_datagrams",
                () => datagrams() is { } udp ? udp.Dropped.Select(d => new Measurement<long>(d.Count, _pool, new KeyValuePair<string, object?>(DropReasonAttribute, d.Reason))) : [],
                "{datagram}",
                "UDP datagrams received and not echoed, by reason.");
        }
    }

    /// <summary>How long each client waiting for a slot now has waited so far.</summary>
    public IReadOnlyList<TimeSpan> WaitsInProgress() => _waiting();

    /// <summary>The longest of <paramref name="waits"/>, or zero.</summary>
    public static TimeSpan OldestWait(IReadOnlyList<TimeSpan> waits)
    {
        var oldest = TimeSpan.Zero;
        foreach (var wait in waits)
        {
            oldest = wait > oldest ? wait : oldest;
        }

        return oldest;
    }

    /// <summary>A wait in microseconds, clamped to what the interval histograms hold.</summary>
    internal static long Microseconds(TimeSpan wait) => Math.Clamp((long)wait.TotalMicroseconds, 1, HighestQueueWaitUs);

    public void Dispose() => Meter.Dispose();

    // Durations in seconds, the base unit Prometheus and the semantic conventions expect, with buckets that fit.
    private Histogram<double> CreateSeconds(string name, string description, double[] buckets) =>
        Meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = buckets });
}
