using EchoServer.Connections;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Diagnostics;

/// <summary>
/// The one sink of a connection's events (accepted, admitted, started, closed, refused), as Kestrel's
/// <c>KestrelConnection</c> reports them in one place: it keeps the counters and the instruments, and writes the
/// connection log, refusals under one rate limit with a flush timer for the end of a storm.
/// </summary>
internal sealed class ConnectionEvents : IDisposable
{
    /// <summary>The connection detail that names a faulted connection's faults, copied to its duration's <see cref="ServerMetrics.FaultAttribute"/>.</summary>
    public const string FaultDetail = "fault";

    private static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(1);

    private readonly ServerCounters _counters;
    private readonly ServerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly string _poolName;
    private readonly PoolSettings _pool;
    private readonly LogRateLimiter _refusalLog = new(RefusalLogInterval);
    private readonly Timer _refusalFlush;
    private int _flushArmed;

    /// <param name="counters">Totals since start.</param>
    /// <param name="metrics">The server's instruments.</param>
    /// <param name="logger">The connection log.</param>
    /// <param name="pool">The pool's kind, in every line.</param>
    /// <param name="settings">The pool's settings, in the refusal line.</param>
    public ConnectionEvents(ServerCounters counters, ServerMetrics metrics, ILogger logger, PoolKind pool, PoolSettings settings)
    {
        _counters = counters;
        _metrics = metrics;
        _logger = logger;
        _poolName = pool.ToName();
        _pool = settings;
        _refusalFlush = new Timer(static s => ((ConnectionEvents)s!).FlushRefusals(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>A socket was accepted and registered: counted now, logged once it is admitted (a refusal gets no accept line).</summary>
    public void Accepted()
    {
        _counters.OnAccepted();
        _metrics.Accepted();
    }

    /// <summary>The pool took the connection (to serve now or to queue).</summary>
    public void Admitted(ClientConnection connection) => LogAccepted(connection);

    /// <summary>A session starts, served by a worker thread (its name) or the executor.</summary>
    public void Started(ClientConnection connection, string servedBy)
    {
        connection.MarkStarted(servedBy);
        LogAccepted(connection); // before the session can log anything else about it
        ServerLog.SessionStarted(_logger, connection.Id, servedBy, connection.QueuedFor.TotalMilliseconds, _poolName);
    }

    /// <summary>A stage or the pool refused the connection (it closes next): counted, and logged under the rate limit; a stop's refusals are not news.</summary>
    public void Refused(ClientConnection connection)
    {
        var reason = connection.RefusalReason;
        _metrics.Refused(reason.ToName());
        if (reason == CloseReason.Shutdown || !MayLogRefusal(out long suppressed))
        {
            return;
        }

        if (connection.RefusalProblem is { } problem)
        {
            ServerLog.ProxyHeaderRejected(_logger, connection.Id, connection.RemoteEndPoint, problem, suppressed);
        }
        else
        {
            ServerLog.Refused(_logger, connection.Id, connection.RemoteEndPoint, reason.ToName(), _poolName, _pool.Workers, _pool.QueueCapacity, suppressed);
        }
    }

    /// <summary>The connection closed: its totals, its duration and its close line.</summary>
    public void Closed(ClientConnection connection)
    {
        var reason = connection.Reason;
        bool served = connection.ServedBy is not null && !connection.Refused;
        _counters.OnClosed(served, connection.BytesIn, connection.BytesOut);
        _metrics.Closed(reason.ToName(), connection.Age, FaultOf(connection));
        var level = connection.AcceptLogged && reason != CloseReason.Reset ? LogLevel.Information : LogLevel.Debug;
        ServerLog.Closed(
            _logger,
            level,
            connection.Id,
            reason.ToName(),
            connection.ServedBy ?? "-",
            connection.QueuedFor.TotalMilliseconds,
            connection.BytesIn,
            connection.BytesOut,
            connection.Age.TotalMilliseconds,
            _poolName,
            connection.Details);
    }

    public void Dispose()
    {
        _refusalFlush.Dispose();
        FlushRefusals();
    }

    private static string? FaultOf(ClientConnection connection)
    {
        var details = connection.Details;
        for (int i = 0; i < details.Count; i++)
        {
            if (details[i].Key == FaultDetail)
            {
                return details[i].Value;
            }
        }

        return null;
    }

    private void LogAccepted(ClientConnection connection)
    {
        if (connection.TryMarkAcceptLogged())
        {
            ServerLog.Accepted(_logger, connection.Id, connection.RemoteEndPoint, _poolName);
        }
    }

    /// <summary>True when a refusal line may be logged now, with how many were held back; otherwise counts it as held back.</summary>
    private bool MayLogRefusal(out long suppressed)
    {
        if (_refusalLog.TryAcquire(out suppressed))
        {
            return true;
        }

        if (Interlocked.Exchange(ref _flushArmed, 1) == 0)
        {
            // The storm may end with this one: report the held-back count once the interval has passed.
            _refusalFlush.Change(RefusalLogInterval, Timeout.InfiniteTimeSpan);
        }

        return false;
    }

    private void FlushRefusals()
    {
        Interlocked.Exchange(ref _flushArmed, 0);
        if (_refusalLog.TryFlush(out long suppressed))
        {
            ServerLog.RefusalsSummary(_logger, suppressed, _poolName);
        }
        else if (_refusalLog.Suppressed > 0 && Interlocked.Exchange(ref _flushArmed, 1) == 0)
        {
            _refusalFlush.Change(RefusalLogInterval, Timeout.InfiniteTimeSpan);
        }
    }
}
