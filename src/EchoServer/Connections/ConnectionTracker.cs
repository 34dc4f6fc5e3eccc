using System.Net.Sockets;
using EchoServer.Diagnostics;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Connections;

/// <summary>
/// The bookkeeping of every connection from hand-off to close: it turns an accepted socket into a
/// <see cref="ClientConnection"/>, registers and counts it, applies the per-address limit, submits it to the
/// pool, refuses what the pool will not serve, and on close releases what the connection held and logs it.
/// With the PROXY protocol on, a header is read first (<c>ConnectionTracker.ProxyHeader.cs</c>).
/// </summary>
internal sealed partial class ConnectionTracker : IDisposable
{
    private static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger;
    private readonly string _poolName;
    private readonly PerAddressLimiter _perAddress;
    private readonly LogRateLimiter _refusalLog = new(RefusalLogInterval);
    private readonly Timer _refusalFlush;
    private readonly Action _releaseConnectionSlot;
    private readonly Action<ClientConnection> _onClosed;
    private readonly long[] _bytesReported = new long[2];
    private readonly ProxyProtocolSettings? _proxyProtocol;
    private IWorkPool<ClientConnection>? _pool;
    private long _nextConnectionId;
    private int _flushArmed;

    /// <param name="pool">The pool's kind, for logs.</param>
    /// <param name="maxConnectionsPerIp">Open connections allowed per client address; zero for no limit.</param>
    /// <param name="metrics">The server's instruments.</param>
    /// <param name="logger">The connection log.</param>
    /// <param name="releaseConnectionSlot">Gives the listener back the slot a closed connection held.</param>
    /// <param name="proxyProtocol">How PROXY protocol headers are read; null when connections carry none.</param>
    public ConnectionTracker(PoolKind pool, int maxConnectionsPerIp, ServerMetrics metrics, ILogger logger, Action releaseConnectionSlot, ProxyProtocolSettings? proxyProtocol = null)
    {
        _proxyProtocol = proxyProtocol;
        _poolName = pool.ToName();
        _perAddress = new PerAddressLimiter(maxConnectionsPerIp);
        Metrics = metrics;
        _logger = logger;
        _releaseConnectionSlot = releaseConnectionSlot;
        _onClosed = OnClosed;
        _refusalFlush = new Timer(static s => ((ConnectionTracker)s!).FlushRefusals(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public ConnectionRegistry Connections { get; } = new();

    public ServerCounters Counters { get; } = new();

    public ServerMetrics Metrics { get; }

    /// <summary>The pool connections are submitted to; set once, before the first hand-off.</summary>
    public IWorkPool<ClientConnection> Pool
    {
        get => _pool ?? throw new InvalidOperationException("No pool yet.");
        set => _pool = value;
    }

    /// <summary>Refusals held back by the rate limiter and not reported yet.</summary>
    public long RefusalsNotYetLogged => _refusalLog.Suppressed;

    /// <summary>Takes an accepted socket from the listener to the pool (or to a refusal).</summary>
    public async ValueTask HandOffAsync(Socket socket, CancellationToken cancellationToken)
    {
        // Echoes are small and latency-bound: never let Nagle hold a reply back for a delayed ACK.
        try
        {
            socket.NoDelay = true;
        }
        catch (SocketException)
        {
            // Reset before we got to it; the session will see that and end.
        }

        var connection = new ClientConnection(Interlocked.Increment(ref _nextConnectionId), socket, _onClosed);
        Connections.Add(connection);
        Counters.OnAccepted();
        Metrics.Accepted();
        if (_proxyProtocol is { } proxyProtocol)
        {
            StartProxyHeader(connection, proxyProtocol, cancellationToken);
            return;
        }

        await AdmitAsync(connection, cancellationToken);
    }

    /// <summary>Applies the per-address limit to the client's address and submits the connection to the pool.</summary>
    private async ValueTask AdmitAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        if (_perAddress.Limit > 0 && connection.RemoteEndPoint is { } remote)
        {
            if (!_perAddress.TryAcquire(remote.Address))
            {
                Refuse(connection, CloseReason.PerIpLimit);
                return;
            }

            connection.HoldsAddressSlot = true;
        }

        try
        {
            await Pool.SubmitAsync(connection, cancellationToken);
        }
        catch
        {
            connection.Close(CloseReason.Error);
            throw;
        }

        LogAccepted(connection);
    }

    /// <summary>Closes a connection the pool will not serve (or no longer serves), counted and summed up in a rate-limited line.</summary>
    public void Refuse(ClientConnection connection, CloseReason reason)
    {
        connection.Refused = true;
        Metrics.Refused(reason.ToName());
        if (reason != CloseReason.Shutdown && MayLogRefusal(out long suppressed))
        {
            ServerLog.Refused(_logger, connection.Id, connection.RemoteEndPoint, reason.ToName(), _poolName, Pool.Settings.Workers, Pool.Settings.QueueCapacity, suppressed);
        }

        connection.Close(reason);
    }

    /// <summary>Called when a session starts on <paramref name="worker"/>.</summary>
    public void OnStarted(ClientConnection connection, string worker)
    {
        connection.MarkStarted(worker);
        LogAccepted(connection); // before the session can log anything else about it
        ServerLog.SessionStarted(_logger, connection.Id, worker, connection.QueuedFor.TotalMilliseconds, _poolName);
    }

    /// <summary>
    /// Bytes since start: closed connections' totals plus what open ones have moved so far. A connection that
    /// closes while this sums could be counted twice or not at all for a moment, so the result never goes back.
    /// </summary>
    public (long Received, long Sent) BytesSoFar()
    {
        long received = Counters.BytesIn;
        long sent = Counters.BytesOut;
        foreach (var connection in Connections.Snapshot())
        {
            received += connection.BytesIn;
            sent += connection.BytesOut;
        }

        lock (_bytesReported)
        {
            _bytesReported[0] = Math.Max(_bytesReported[0], received);
            _bytesReported[1] = Math.Max(_bytesReported[1], sent);
            return (_bytesReported[0], _bytesReported[1]);
        }
    }

    public void Dispose()
    {
        _refusalFlush.Dispose();
        FlushRefusals();
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

    private void OnClosed(ClientConnection connection)
    {
        Connections.Remove(connection);
        if (connection.HoldsAddressSlot)
        {
            _perAddress.Release(connection.RemoteEndPoint!.Address);
        }

        bool served = connection.Worker is not null && !connection.Refused;
        Counters.OnClosed(served, connection.BytesIn, connection.BytesOut);
        Metrics.Closed(connection.Reason.ToName(), connection.Age);
        bool logged = connection.AcceptLogged;
        var level = logged && connection.Reason != CloseReason.Reset ? LogLevel.Information : LogLevel.Debug;
        ServerLog.Closed(
            _logger,
            level,
            connection.Id,
            connection.Reason.ToName(),
            connection.Worker ?? "-",
            connection.QueuedFor.TotalMilliseconds,
            connection.BytesIn,
            connection.BytesOut,
            connection.Age.TotalMilliseconds,
            _poolName);
        _releaseConnectionSlot();
    }
}
