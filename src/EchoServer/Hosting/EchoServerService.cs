using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EchoServer.Diagnostics;
using EchoServer.Echo;
using EchoServer.Listening;
using EchoServer.Pools;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>
/// The server as a hosted service: binds in <see cref="StartAsync"/> (so a taken port fails start-up),
/// accepts in the background, and on stop unbinds, refuses queued clients, drains active sessions until the
/// shutdown timeout, then closes what is left.
/// </summary>
internal sealed class EchoServerService : IHostedService, IDisposable
{
    private readonly ServerOptions _options;
    private readonly ILogger _logger;
    private readonly ILogger _lifecycle;
    private readonly ConnectionListener _listener;
    private readonly IWorkPool<ClientConnection> _pool;
    private readonly ConnectionRegistry _connections = new();
    private readonly LogRateLimiter _refusalLog = new(TimeSpan.FromSeconds(1));
    private readonly PerAddressLimiter _perAddress;
    private readonly ConnectionWatchdog _watchdog;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Action<ClientConnection> _onClosed;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private Task _acceptLoop = Task.CompletedTask;
    private StatsReporter? _stats;
    private PosixSignalRegistration? _snapshotSignal;
    private long _nextConnectionId;
    private readonly long[] _bytesReported = new long[2];

    public EchoServerService(ServerOptions options, ILoggerFactory loggerFactory, IMeterFactory meterFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger(EchoServerHost.ConnectionsCategory);
        _lifecycle = loggerFactory.CreateLogger(EchoServerHost.LifecycleCategory);
        _listener = new ConnectionListener(new IPEndPoint(options.Host, options.Port), options.Backlog, options.MaxConnections, _logger);
        _pool = SessionPoolFactory.Create(options, Refuse, _logger, Hooks);
        _perAddress = new PerAddressLimiter(options.MaxConnectionsPerIp);
        _watchdog = new ConnectionWatchdog(_connections, options.IdleTimeout, options.SendTimeout);
        Metrics = new ServerMetrics(meterFactory, _pool.Name, () => Counters.Active, () => _pool.QueueLength, () => _pool.Busy, BytesSoFar);
        _onClosed = OnClosed;
    }

    /// <summary>The bound endpoint (real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    public ServerCounters Counters { get; } = new();

    public ServerMetrics Metrics { get; }

    /// <summary>True from the moment a stop is requested: health checks report it.</summary>
    public bool IsDraining { get; private set; }

    /// <summary>True while a new client would not be served at once: every connection slot held, or the pool's queue full.</summary>
    public bool IsSaturated => Counters.Active >= _options.MaxConnections || _pool.QueueLength >= _pool.Settings.QueueCapacity;

    /// <summary>Logs the snapshot one line per log event, so that single-line log formats keep it readable.</summary>
    public void LogSnapshot()
    {
        foreach (var line in Snapshot().Split('\n'))
        {
            ServerLog.Snapshot(_lifecycle, line);
        }
    }

    /// <summary>Each worker's state, the queue and the totals, as text.</summary>
    public string Snapshot() => PoolSnapshot.Render(_pool, _connections, Counters, _options.MaxConnections, IsDraining);

    public IWorkPool<ClientConnection> Pool => _pool;

    public ConnectionListener Listener => _listener;

    public ConnectionRegistry Connections => _connections;

    /// <summary>Refusals held back by the rate limiter since the last refusal line (it reports them with the next one).</summary>
    internal long RefusalsNotYetLogged => _refusalLog.Suppressed;

    /// <summary>Fault-injection seams for tests.</summary>
    internal SessionHooks Hooks { get; } = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var checks = StartupChecks.Run(_options);
        if (checks.Error is not null)
        {
            throw new StartupException(checks.Error);
        }

        _pool.Start();
        _listener.Bind();
        ServerLog.Listening(_lifecycle, FormatEndPoint(LocalEndPoint), _pool.Name, _pool.Settings.Workers, _pool.Settings.QueueCapacity, _options.MaxConnections);
        ServerLog.DescriptorLimit(_lifecycle, checks.DescriptorLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown", _options.MaxConnections);
        foreach (var warning in checks.Warnings)
        {
            ServerLog.ConfigurationWarning(_lifecycle, warning);
        }

        _acceptLoop = Task.Run(() => _listener.RunAsync(HandOffAsync, _stopping.Token), CancellationToken.None);
        if (_options.StatsInterval > TimeSpan.Zero)
        {
            _stats = new StatsReporter(_options.StatsInterval, Counters, Metrics, () => (_pool.QueueLength, _pool.Busy, _pool.Settings.Workers), _pool.Name, _lifecycle);
        }

        // SIGUSR1 logs a snapshot, like a thread dump: kill -USR1 <pid>.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            var sigusr1 = (PosixSignal)(OperatingSystem.IsMacOS() ? 30 : 10);
            _snapshotSignal = PosixSignalRegistration.Create(sigusr1, context =>
            {
                context.Cancel = true; // the default action of SIGUSR1 would end the process
                LogSnapshot();
            });
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        IsDraining = true;
        _stats?.Dispose();
        await _stopping.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;

        ServerLog.Draining(_lifecycle, _pool.Busy, _options.ShutdownTimeout.TotalSeconds, _pool.Name);
        _pool.Complete();
        if (!await CompletesWithin(_pool.Completion, _options.ShutdownTimeout, cancellationToken))
        {
            ServerLog.DrainDeadline(_lifecycle, _pool.Busy, _pool.Name);
            _connections.AbortAll(CloseReason.Shutdown);
            if (!await CompletesWithin(_pool.Completion, TimeSpan.FromSeconds(5), CancellationToken.None))
            {
                ServerLog.SessionsStuck(_lifecycle, _pool.Busy, _pool.Name);
            }
        }

        ServerLog.Stopped(_lifecycle, Stopwatch.GetElapsedTime(_startedAt).TotalSeconds, Counters.Served, Counters.Refused, Counters.BytesIn, Counters.BytesOut, _pool.Name);
    }

    public void Dispose()
    {
        _snapshotSignal?.Dispose();
        _stats?.Dispose();
        _watchdog.Dispose();
        Metrics.Dispose();
        _listener.Dispose();
        _pool.Dispose();
        _stopping.Dispose();
    }

    internal static string FormatEndPoint(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : endPoint.ToString();

    private static async Task<bool> CompletesWithin(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    private async ValueTask HandOffAsync(Socket socket, CancellationToken cancellationToken)
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

        var connection = new ClientConnection(Interlocked.Increment(ref _nextConnectionId), socket, _onClosed, Metrics);
        _connections.Add(connection);
        Counters.OnAccepted();
        Metrics.Accepted();
        ServerLog.Accepted(_logger, connection.Id, connection.RemoteEndPoint, _pool.Name);
        if (_perAddress.Limit > 0 && connection.RemoteEndPoint is { } remote)
        {
            if (!_perAddress.TryAcquire(remote.Address))
            {
                Refuse(connection, CloseReason.PerIpLimit);
                return;
            }

            connection.HoldsAddressSlot = true;
        }

        await _pool.SubmitAsync(connection, cancellationToken);
    }

    private void Refuse(ClientConnection connection, PoolOutcome outcome) => Refuse(connection, outcome switch
    {
        PoolOutcome.PoolSaturated => CloseReason.PoolSaturated,
        PoolOutcome.DroppedOldest => CloseReason.DroppedOldest,
        PoolOutcome.QueueTimeout => CloseReason.QueueTimeout,
        _ => CloseReason.Shutdown,
    });

    private void Refuse(ClientConnection connection, CloseReason reason)
    {
        Metrics.Refused(reason.ToName());
        if (reason != CloseReason.Shutdown && _refusalLog.TryAcquire(out long suppressed))
        {
            ServerLog.Refused(_logger, connection.Id, connection.RemoteEndPoint, reason.ToName(), _pool.Name, _pool.Settings.Workers, _pool.Settings.QueueCapacity, suppressed);
        }

        connection.Close(reason);
    }

    /// <summary>
    /// Bytes since start: closed connections' totals plus what open ones have moved so far. A connection that
    /// closes while this sums could be counted twice or not at all for a moment, so the result never goes back.
    /// </summary>
    private (long Received, long Sent) BytesSoFar()
    {
        long received = Counters.BytesIn;
        long sent = Counters.BytesOut;
        foreach (var connection in _connections.Snapshot())
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

    private void OnClosed(ClientConnection connection)
    {
        _connections.Remove(connection);
        if (connection.HoldsAddressSlot)
        {
            _perAddress.Release(connection.RemoteEndPoint!.Address);
        }

        Counters.OnClosed(connection.Worker is not null, connection.BytesIn, connection.BytesOut);
        Metrics.Closed(connection.Reason.ToName(), connection.Worker is not null ? connection.Age : null);
        ServerLog.Closed(
            _logger,
            connection.Id,
            connection.Reason.ToName(),
            connection.Worker ?? "-",
            connection.QueuedFor.TotalMilliseconds,
            connection.BytesIn,
            connection.BytesOut,
            connection.Age.TotalMilliseconds,
            _pool.Name);
        _listener.ReleaseSlot();
    }
}
