using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoServer.Diagnostics;

/// <summary>Logs one line per interval with what changed since the last one: rates, queue, busy workers, refusals, p99 queue wait, and the oldest queue wait now.</summary>
internal sealed class StatsReporter : IDisposable
{
    private readonly ServerCounters _counters;
    private readonly QueueWaitReader _queueWaits;
    private readonly Func<(int QueueLength, int Busy, int Workers)> _pool;
    private readonly string _poolName;
    private readonly ILogger _logger;
    private readonly Timer _timer;
    private long _lastAt = Stopwatch.GetTimestamp();
    private long _lastAccepted;
    private long _lastRefused;
    private long _lastBytes;
    private readonly Func<(DatagramTotals Totals, int Busy, int Queued)?>? _datagrams;
    private DatagramTotals? _lastDatagrams;

    public StatsReporter(TimeSpan interval, ServerCounters counters, ServerMetrics metrics, Func<(int QueueLength, int Busy, int Workers)> pool, string poolName, ILogger logger, BackgroundFaults faults, Func<(DatagramTotals Totals, int Busy, int Queued)?>? datagrams = null)
    {
        _datagrams = datagrams;
        _counters = counters;
        _queueWaits = metrics.TrackQueueWaits();
        _pool = pool;
        _poolName = poolName;
        _logger = logger;
        _timer = faults.StartTimer("The stats line", Report, interval, interval);
    }

    public void Dispose() => _timer.Dispose();

    internal void Report()
    {
        long now = Stopwatch.GetTimestamp();
        double seconds = Math.Max(Stopwatch.GetElapsedTime(_lastAt, now).TotalSeconds, 1e-9);
        long accepted = _counters.Accepted;
        long refused = _counters.Refused;
        long bytes = _counters.BytesOut;
        var waits = _queueWaits.Read();
        var (queue, busy, workers) = _pool();
        ServerLog.Stats(
            _logger,
            (accepted - _lastAccepted) / seconds,
            (bytes - _lastBytes) / seconds / (1 << 20),
            _counters.Active,
            queue,
            busy,
            workers,
            refused - _lastRefused,
            waits.P99Ms,
            waits.OldestMs,
            _poolName);
        if (_datagrams?.Invoke() is { } udp)
        {
            ReportDatagrams(udp.Totals, udp.Busy, udp.Queued, seconds);
        }

        _lastAt = now;
        _lastAccepted = accepted;
        _lastRefused = refused;
        _lastBytes = bytes;
    }

    private void ReportDatagrams(DatagramTotals totals, int busy, int queued, double seconds)
    {
        var last = _lastDatagrams;
        long dropped = totals.DroppedTotal - (last?.DroppedTotal ?? 0);
        var reasons = totals.Dropped
            .Select((d, i) => (d.Reason, Count: d.Count - (last?.Dropped[i].Count ?? 0)))
            .Where(d => d.Count > 0)
            .Select(d => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{d.Reason} {d.Count}"));
        string why = dropped > 0 ? $" ({string.Join(", ", reasons)})" : string.Empty;
        ServerLog.DatagramStats(
            _logger,
            (totals.Received - (last?.Received ?? 0)) / seconds,
            (totals.Echoed - (last?.Echoed ?? 0)) / seconds,
            dropped,
            why,
            busy,
            queued,
            _poolName);
        _lastDatagrams = totals;
    }
}
