using System.Diagnostics;
using EchoServer.Diagnostics;

namespace EchoServer.Hosting;

/// <summary>
/// Runs an action at most once per interval however often it is asked for: requests that come sooner are merged
/// into one later run, which is told how many requests it answers. A flood of signals costs a counter each.
/// </summary>
internal sealed class CoalescedAction : IDisposable
{
    private readonly Action<long> _action;
    private readonly TimeSpan _interval;
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private long _pending;
    private bool _scheduled;
    private long? _lastRunAt;

    /// <param name="name">What runs, for the log line should it fail.</param>
    /// <param name="interval">Least time between two runs.</param>
    /// <param name="action">The action, given how many requests it answers.</param>
    /// <param name="faults">Contains what the action throws.</param>
    public CoalescedAction(string name, TimeSpan interval, Action<long> action, BackgroundFaults faults)
    {
        _action = action;
        _interval = interval;
        _timer = faults.StartTimer(name, RunPending, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Asks for a run: at once if the last was an interval ago, else one interval after it.</summary>
    public void Request()
    {
        TimeSpan due;
        lock (_lock)
        {
            _pending++;
            if (_scheduled)
            {
                return;
            }

            _scheduled = true;
            var since = _lastRunAt is { } at ? Stopwatch.GetElapsedTime(at) : _interval;
            due = since >= _interval ? TimeSpan.Zero : _interval - since;
        }

        _timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();

    private void RunPending()
    {
        long count;
        lock (_lock)
        {
            (count, _pending, _scheduled, _lastRunAt) = (_pending, 0, false, Stopwatch.GetTimestamp());
        }

        if (count > 0)
        {
            _action(count);
        }
    }
}
