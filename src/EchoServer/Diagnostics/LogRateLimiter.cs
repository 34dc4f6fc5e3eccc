namespace EchoServer.Diagnostics;

/// <summary>
/// Lets at most one event through per interval and counts the ones it holds back, so that a flood of
/// refusals or accept errors cannot make logging the bottleneck.
/// </summary>
internal sealed class LogRateLimiter
{
    private readonly long _intervalTicks;
    private readonly TimeProvider _time;
    private long _nextAllowed;
    private long _suppressed;

    public LogRateLimiter(TimeSpan interval, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _intervalTicks = (long)(interval.TotalSeconds * _time.TimestampFrequency);
    }

    /// <summary>True when this event should be logged; <paramref name="suppressed"/> is how many were held back since the last one.</summary>
    public bool TryAcquire(out long suppressed)
    {
        long now = _time.GetTimestamp();
        long next = Volatile.Read(ref _nextAllowed);
        if (now >= next && Interlocked.CompareExchange(ref _nextAllowed, now + _intervalTicks, next) == next)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }

    /// <summary>
    /// For the end of a storm: true when events were held back and the interval since the last one let through
    /// has passed, with how many (they count as reported from here on).
    /// </summary>
    public bool TryFlush(out long suppressed)
    {
        suppressed = 0;
        long now = _time.GetTimestamp();
        long next = Volatile.Read(ref _nextAllowed);
        if (Volatile.Read(ref _suppressed) == 0 || now < next || Interlocked.CompareExchange(ref _nextAllowed, now + _intervalTicks, next) != next)
        {
            return false;
        }

        suppressed = Interlocked.Exchange(ref _suppressed, 0);
        return suppressed > 0;
    }

    /// <summary>Events held back since the last one let through.</summary>
    public long Suppressed => Volatile.Read(ref _suppressed);
}
