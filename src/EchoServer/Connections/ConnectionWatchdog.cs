using System.Diagnostics;
using EchoServer.Diagnostics;
using EchoServer.Echo;

namespace EchoServer.Connections;

/// <summary>
/// One timer for every connection instead of a timer per socket call: a few times per timeout it looks at
/// what each session waits for and since when. A client silent past the idle timeout is stopped politely
/// (what was echoed still reaches it, then a FIN); one that has not taken our bytes past the send timeout is
/// reset, since what it has not read cannot be delivered anyway (an executor session waits for such a client
/// holding no slot, but its connection and unsent bytes stay until then). Both pools get the same timeouts. A connection
/// still without its whole PROXY protocol header past the header timeout is stopped too (proxy-header), and so is one
/// whose TLS handshake has not ended past the handshake timeout (tls-handshake).
/// </summary>
internal sealed class ConnectionWatchdog : IDisposable
{
    private readonly ConnectionRegistry _connections;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _sendTimeout;
    private readonly TimeSpan _headerTimeout;
    private readonly TimeSpan _handshakeTimeout;
    private readonly Timer? _timer;

    /// <param name="connections">The open connections.</param>
    /// <param name="idleTimeout">Longest wait for a client's bytes; zero for none.</param>
    /// <param name="sendTimeout">Longest wait for a client to take ours; zero for none.</param>
    /// <param name="faults">Contains what a sweep throws.</param>
    /// <param name="headerTimeout">Longest time from accept to a complete PROXY protocol header; zero when none is read.</param>
    /// <param name="handshakeTimeout">Longest TLS handshake; zero without TLS.</param>
    public ConnectionWatchdog(ConnectionRegistry connections, TimeSpan idleTimeout, TimeSpan sendTimeout, BackgroundFaults faults, TimeSpan headerTimeout = default, TimeSpan handshakeTimeout = default)
    {
        _connections = connections;
        _idleTimeout = idleTimeout;
        _sendTimeout = sendTimeout;
        _headerTimeout = headerTimeout;
        _handshakeTimeout = handshakeTimeout;
        var shortest = new[] { idleTimeout, sendTimeout, headerTimeout, handshakeTimeout }.Where(t => t > TimeSpan.Zero).DefaultIfEmpty(TimeSpan.Zero).Min();
        if (shortest > TimeSpan.Zero)
        {
            Period = TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 5, TimeSpan.TicksPerMillisecond * 20, TimeSpan.TicksPerSecond));
            _timer = faults.StartTimer("The connection watchdog", () => Sweep(), Period, Period);
        }
    }

    /// <summary>How often connections are checked; a timeout fires at most this late.</summary>
    public TimeSpan Period { get; }

    public void Dispose() => _timer?.Dispose();

    /// <summary>Stops sessions waiting past their limit; returns how many.</summary>
    internal int Sweep()
    {
        int stopped = 0;
        long now = Stopwatch.GetTimestamp();
        foreach (var connection in _connections.Enumerate()) // no copy of every connection, no lock held over all of them, each sweep
        {
            var (kind, since) = connection.Progress.Waiting;
            if (kind == SessionWait.Receive && _idleTimeout > TimeSpan.Zero && Stopwatch.GetElapsedTime(since, now) > _idleTimeout)
            {
                connection.Stop(CloseReason.IdleTimeout);
                stopped++;
            }
            else if (kind == SessionWait.Send && _sendTimeout > TimeSpan.Zero && Stopwatch.GetElapsedTime(since, now) > _sendTimeout)
            {
                connection.Abort(CloseReason.SendTimeout);
                stopped++;
            }
            else if (kind == SessionWait.Header && _headerTimeout > TimeSpan.Zero && Stopwatch.GetElapsedTime(since, now) > _headerTimeout)
            {
                connection.Stop(CloseReason.ProxyHeader);
                stopped++;
            }
            else if (kind == SessionWait.Handshake && _handshakeTimeout > TimeSpan.Zero && Stopwatch.GetElapsedTime(since, now) > _handshakeTimeout)
            {
                connection.Stop(CloseReason.TlsHandshake);
                stopped++;
            }
        }

        return stopped;
    }
}
