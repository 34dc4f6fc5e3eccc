using HdrHistogram;

namespace EchoServer.Diagnostics;

/// <summary>
/// One reader's intervals of queue waits (the stats line's, the live view's): the p99 of the waits that ended
/// in the interval and of those still in progress at its end, at their age so far, and the oldest wait now. A
/// wait is granted, and recorded, only when it ends, so without the waits in progress clients starved for the
/// whole interval would show a p99 of zero.
/// </summary>
internal sealed class QueueWaitReader(Recorder ended, Func<IReadOnlyList<TimeSpan>> inProgress)
{
    /// <summary>The interval since the last read, in milliseconds.</summary>
    public QueueWaits Read()
    {
        var waits = ended.GetIntervalHistogram(); // a copy of its own: adding to it changes no other reader
        var waiting = inProgress();
        foreach (var wait in waiting)
        {
            waits.RecordValue(ServerMetrics.Microseconds(wait));
        }

        return new QueueWaits(
            waits.TotalCount == 0 ? 0 : waits.GetValueAtPercentile(99) / 1000.0,
            ServerMetrics.OldestWait(waiting).TotalMilliseconds);
    }
}
