using System.Diagnostics;

namespace EchoServer.Echo;

/// <summary>
/// One timer for every connection instead of a timer per socket call: a few times per timeout it looks at
/// what each running session is blocked on and since when, and aborts the ones past their limit. The abort
/// closes the socket, which wakes a worker thread blocked in a receive or send just as it cancels an
/// asynchronous one, so both pools get the same timeouts.
/// </summary>
internal sealed class ConnectionWatchdog : IDisposable
{
    private readonly ConnectionRegistry _connections;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _sendTimeout;
    private readonly Timer? _timer;

    /// <param name="connections">The open connections.</param>
    /// <param name="idleTimeout">Longest wait for a client's bytes; zero for none.</param>
    /// <param name="sendTimeout">Longest wait for a client to take ours; zero for none.</param>
    public ConnectionWatchdog(ConnectionRegistry connections, TimeSpan idleTimeout, TimeSpan sendTimeout)
    {
        _connections = connections;
        _idleTimeout = idleTimeout;
        _sendTimeout = sendTimeout;
        var shortest = new[] { idleTimeout, sendTimeout }.Where(t => t > TimeSpan.Zero).DefaultIfEmpty(TimeSpan.Zero).Min();
        if (shortest > TimeSpan.Zero)
        {
            Period = TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 5, TimeSpan.TicksPerMillisecond * 20, TimeSpan.TicksPerSecond));
            _timer = new Timer(static s => ((ConnectionWatchdog)s!).Sweep(), this, Period, Period);
        }
    }

    /// <summary>How often connections are checked; a timeout fires at most this late.</summary>
    public TimeSpan Period { get; }

    public void Dispose() => _timer?.Dispose();

    /// <summary>Aborts sessions blocked past their limit; returns how many.</summary>
    internal int Sweep()
    {
        int aborted = 0;
        long now = Stopwatch.GetTimestamp();
        foreach (var connection in _connections.Snapshot())
        {
            var (kind, since) = connection.Waiting;
            var limit = kind switch
            {
                SessionWait.Receive => _idleTimeout,
                SessionWait.Send => _sendTimeout,
                _ => TimeSpan.Zero,
            };

            if (limit > TimeSpan.Zero && Stopwatch.GetElapsedTime(since, now) > limit)
            {
                connection.Abort(kind == SessionWait.Receive ? CloseReason.IdleTimeout : CloseReason.SendTimeout);
                aborted++;
            }
        }

        return aborted;
    }
}
