namespace EchoServer.Tests.Pools;

/// <summary>
/// A clock that moves only when told: <see cref="Advance"/> fires each due timer at its own due time, in order,
/// and a callback may re-arm its one-shot timer, as with System.Threading.Timer. (FakeTimeProvider, in the
/// source read, disarms a one-shot timer after its callback returns, dropping a re-arm made inside it, and
/// truncates due times to whole milliseconds: both matter to a queue timer that re-arms itself.)
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly List<Timer> _timers = [];
    private long _now;

    public TimeSpan Now => TimeSpan.FromTicks(_now);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _now;

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(_now);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this, callback, state);
        _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        long target = _now + by.Ticks;
        while (_timers.Where(t => t.Due <= target).MinBy(t => t.Due) is { } next)
        {
            _now = Math.Max(_now, next.Due);
            next.Fire();
        }

        _now = target;
    }

    private sealed class Timer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long Due { get; private set; } = long.MaxValue;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (period != Timeout.InfiniteTimeSpan && period != TimeSpan.Zero)
            {
                throw new NotSupportedException("Only one-shot timers.");
            }

            Due = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : clock._now + dueTime.Ticks;
            return true;
        }

        public void Fire()
        {
            Due = long.MaxValue; // disarmed before the callback, which may arm it again
            callback(state);
        }

        public void Dispose()
        {
            Due = long.MaxValue;
            clock._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
