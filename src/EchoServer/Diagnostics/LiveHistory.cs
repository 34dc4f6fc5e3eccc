using System.Diagnostics;
using EchoServer.Connections;

namespace EchoServer.Diagnostics;

/// <summary>
/// The last minute, one sample a second, for the live view: accepted, refused and closed per second, MiB/s
/// echoed, the p99 of the queue waits that ended in that second or were still in progress at its end (every slot
/// grant: in the executor, every burst), and the oldest queue wait then. Kept on the server (rather than by each
/// page) so that a page opened now shows the whole minute at once, and every viewer sees the same figures.
/// A tick reads six counters, one interval histogram and the queue: nothing is added to the echo path but the
/// queue-wait recording of every grant.
/// </summary>
internal sealed class LiveHistory : IDisposable
{
    public const int Seconds = 60;

    private readonly ServerCounters _counters;
    private readonly Func<long> _bytesOut;
    private readonly Func<TimeSpan> _uptime;
    private readonly QueueWaitReader _queueWaits;

    private readonly Lock _lock = new();
    private readonly LiveSample[] _ring = new LiveSample[Seconds];
    private readonly Timer _timer;
    private int _count;
    private int _next;
    private long _lastAt;
    private long _lastAccepted;
    private long _lastRefused;
    private long _lastClosed;
    private long _lastBytes;

    /// <param name="counters">The server's totals.</param>
    /// <param name="queueWaits">The queue waits, ended and in progress (<see cref="ServerMetrics.TrackQueueWaits"/>), for the p99 and the oldest.</param>
    /// <param name="bytesOut">Bytes echoed so far, open connections included.</param>
    /// <param name="uptime">Time since the server started.</param>
    /// <param name="faults">Contains what a tick throws.</param>
    /// <param name="interval">How often to sample: a second, or never for tests that call <see cref="Tick"/>.</param>
    public LiveHistory(ServerCounters counters, QueueWaitReader queueWaits, Func<long> bytesOut, Func<TimeSpan> uptime, BackgroundFaults faults, TimeSpan? interval = null)
    {
        _counters = counters;
        _bytesOut = bytesOut;
        _uptime = uptime;
        _queueWaits = queueWaits;
        Reset();
        var period = interval ?? TimeSpan.FromSeconds(1);
        _timer = faults.StartTimer("The live view's history", Tick, period, period);
    }

    /// <summary>The samples, oldest first.</summary>
    public IReadOnlyList<LiveSample> Samples()
    {
        lock (_lock)
        {
            var samples = new LiveSample[_count];
            for (int i = 0; i < _count; i++)
            {
                samples[i] = _ring[(_next - _count + i + Seconds) % Seconds];
            }

            return samples;
        }
    }

    /// <summary>Takes one sample now (the timer calls it every second).</summary>
    internal void Tick()
    {
        long now = Stopwatch.GetTimestamp();
        double seconds = Math.Max(Stopwatch.GetElapsedTime(_lastAt, now).TotalSeconds, 1e-9);
        long accepted = _counters.Accepted;
        long refused = _counters.Refused;
        long closed = _counters.Served + refused;
        long bytes = _bytesOut();
        var waits = _queueWaits.Read();
        var sample = new LiveSample(
            _uptime().TotalSeconds,
            (accepted - _lastAccepted) / seconds,
            (refused - _lastRefused) / seconds,
            (closed - _lastClosed) / seconds,
            Math.Max(bytes - _lastBytes, 0) / seconds / (1 << 20),
            waits.P99Ms,
            waits.OldestMs);
        (_lastAt, _lastAccepted, _lastRefused, _lastClosed, _lastBytes) = (now, accepted, refused, closed, bytes);
        lock (_lock)
        {
            _ring[_next] = sample;
            _next = (_next + 1) % Seconds;
            _count = Math.Min(_count + 1, Seconds);
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
    }

    private void Reset()
    {
        _lastAt = Stopwatch.GetTimestamp();
        _lastAccepted = _counters.Accepted;
        _lastRefused = _counters.Refused;
        _lastClosed = _counters.Served + _lastRefused;
        _lastBytes = _bytesOut();
    }
}
