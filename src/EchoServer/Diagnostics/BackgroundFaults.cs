using Microsoft.Extensions.Logging;

namespace EchoServer.Diagnostics;

/// <summary>
/// Runs the server's background callbacks (timer ticks, signal handlers) so that none can end the process: an
/// exception thrown by one escapes to the runtime, which terminates on it. Each is contained, counted and logged,
/// at most one line per interval with how many were held back.
/// </summary>
internal sealed class BackgroundFaults(ILogger logger)
{
    private readonly LogRateLimiter _limiter = new(TimeSpan.FromSeconds(10));
    private long _count;

    /// <summary>Callbacks that have thrown since the start.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>A timer that runs <paramref name="tick"/> every <paramref name="period"/> (first after <paramref name="dueTime"/>), contained.</summary>
    public Timer StartTimer(string name, Action tick, TimeSpan dueTime, TimeSpan period) =>
        new(static state => ((Action)state!)(), (Action)(() => Run(name, tick)), dueTime, period);

    /// <summary>Runs <paramref name="callback"/>; an exception is counted and logged, never rethrown.</summary>
    public void Run(string name, Action callback)
    {
        try
        {
            callback();
        }
#pragma warning disable CA1031 // The point: whatever a background callback throws, the server goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            long count = Interlocked.Increment(ref _count);
            if (_limiter.TryAcquire(out long suppressed))
            {
                ServerLog.BackgroundFailed(logger, ex, name, count, suppressed);
            }
        }
    }
}
