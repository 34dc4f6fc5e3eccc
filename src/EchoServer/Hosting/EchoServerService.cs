using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using EchoServer.Connections;
using EchoServer.Datagrams;
using EchoServer.Diagnostics;
using EchoServer.Listening;
using EchoServer.Pools;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>
/// The server as a hosted service, start and stop only: it binds in <see cref="StartingAsync"/>, before the
/// admin endpoint binds in its own, and says "Listening on" in <see cref="StartAsync"/> only once both hold
/// their ports (so a taken port fails start-up having announced nothing), then accepts in the background; on stop it reports draining, keeps accepting for the drain
/// delay, unbinds, completes the pool, lets sessions end until the shutdown timeout, then stops the rest
/// politely and, if they still hang, resets them.
/// </summary>
internal sealed class EchoServerService : IHostedLifecycleService, IDisposable
{
    private readonly ServerOptions _options;
    private readonly ILogger _lifecycle;
    private readonly ConnectionWatchdog _watchdog;
    private readonly PinnedWorkersMonitor? _pinned;
    private readonly CancellationTokenSource _stopping = new();
    private readonly DrainDelay _drainDelay;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private Task _acceptLoop = Task.CompletedTask;
    private StatsReporter? _stats;
    private StartupChecks.Report? _checks;
    private UdpEcho? _udp;

    public EchoServerService(ServerOptions options, ILoggerFactory loggerFactory, IMeterFactory meterFactory)
    {
        _options = options;
        var log = loggerFactory.CreateLogger(EchoServerHost.ConnectionsCategory);
        _lifecycle = loggerFactory.CreateLogger(EchoServerHost.LifecycleCategory);
        Faults = new BackgroundFaults(_lifecycle);
        // The gauges read the tracker and the pool, built next: both exist before anything can observe a gauge.
        Listener = new ConnectionListener(new IPEndPoint(options.Host, options.Port), options.Backlog, options.MaxConnections, log, options.ReusePort);
        Metrics = new ServerMetrics(
            meterFactory, options.Pool.ToName(), () => Tracker!.Counters.Active, () => Pool!.Load.Queued, () => Pool!.Load.Busy, () => Tracker!.BytesSoFar(), () => [.. Pool!.Snapshot().Queue.Select(w => w.Waited)], options.Udp is null ? null : () => _udp?.Counters.Totals());
        var proxyProtocol = options.ProxyProtocol ? new ProxyProtocolSettings(options.TrustedProxies, options.ProxyHeaderTimeout, options.BufferSize) : null;
        Tracker = new ConnectionTracker(options.Pool, options.MaxConnectionsPerIp, Metrics, log, Listener.ReleaseSlot, proxyProtocol);
        var runner = new Lazy<SessionRunner>(() => new SessionRunner(Tracker, options.BufferSize, log, Hooks));
        Pool = options.Pool == PoolKind.Workers
            ? new WorkerThreadPool<ClientConnection>(options.PoolSettings, (c, worker) => runner.Value.Run(c, worker), Tracker.Refuse, log, slotWaited: Metrics.SlotGranted)
            : new BoundedExecutor<ClientConnection>(options.PoolSettings, (c, gate) => runner.Value.RunAsync(c, gate), Tracker.Refuse, log, Metrics.SlotGranted);
        Tracker.Pool = Pool;
        _watchdog = new ConnectionWatchdog(Tracker.Connections, options.IdleTimeout, options.SendTimeout, Faults, proxyProtocol?.HeaderTimeout ?? TimeSpan.Zero);
        _pinned = options.Pool == PoolKind.Workers ? new PinnedWorkersMonitor(Pool, Tracker.Connections, log, Faults) : null;
        _drainDelay = new DrainDelay(options.DrainDelay, _lifecycle, options.Pool.ToName());
    }

    /// <summary>The bound endpoint (real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => Listener.LocalEndPoint;

    public ConnectionListener Listener { get; }

    public ConnectionTracker Tracker { get; }

    public IWorkPool<ClientConnection> Pool { get; }

    public ServerMetrics Metrics { get; }

    /// <summary>Contains, counts and logs what the server's timers and signal handlers throw.</summary>
    public BackgroundFaults Faults { get; }

    /// <summary>The UDP echo, once bound; null without --udp.</summary>
    public UdpEcho? Udp => _udp;

    /// <summary>Runs once every listener is bound and before the "Listening on" line, which scripts wait for (the pid file).</summary>
    public Action? OnBound { get; set; }

    /// <summary>Fault-injection seams for tests.</summary>
    internal SessionHooks Hooks { get; } = new();

    /// <summary>True from the moment a stop is requested: health checks report it.</summary>
    public bool IsDraining { get; private set; }

    /// <summary>True while a new client would not be served at once: every connection slot held, or the pool's queue full.</summary>
    public bool IsSaturated => Tracker.Counters.Active >= _options.MaxConnections || Pool.Load.Queued >= _options.PoolSettings.QueueCapacity;

    /// <summary>Time since the service was built.</summary>
    public TimeSpan Uptime => Stopwatch.GetElapsedTime(_startedAt);

    /// <summary>Each worker's state, the queue and the totals, as text.</summary>
    public string Snapshot() => ServerSnapshot.Render(CaptureSnapshot());

    /// <summary>Each worker's state, the queue and the totals, with <paramref name="history"/> when there is one.</summary>
    public SnapshotData CaptureSnapshot(IReadOnlyList<LiveSample>? history = null) =>
        ServerSnapshot.Capture(Pool.Snapshot(), Tracker.Connections, Tracker.Counters, _options.MaxConnections, IsDraining, Uptime, history, _udp is { } udp ? (udp.Counters.Totals(), udp.Load) : null);

    /// <summary>Everything that can fail: the checks, the code paths the server needs later, the pool, the bind. Nothing is announced yet.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var checks = StartupChecks.Run(_options);
        if (checks.Error is not null)
        {
            throw new StartupException(checks.Error);
        }

        _checks = checks;
        _drainDelay.CountSignals();
        RuntimeWarmUp.Run(Snapshot);
        Pool.Start();
        Listener.Bind();
        if (_options.Udp is { } udp)
        {
            // The same port number as TCP (the real one when 0 was asked for), bound before anything is announced.
            _udp = BindUdp(udp);
        }
        return Task.CompletedTask;
    }

    /// <summary>Every listener is bound (the admin endpoint's too): announce, then accept.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var checks = _checks ?? throw new InvalidOperationException("StartingAsync first.");
        OnBound?.Invoke();
        ServerLog.Listening(_lifecycle, EndPoints.Format(LocalEndPoint), Pool.Kind.ToName(), _options.PoolSettings.Workers, _options.PoolSettings.QueueCapacity, _options.MaxConnections);
        ServerLog.DescriptorLimit(_lifecycle, checks.DescriptorLimit, _options.MaxConnections);
        foreach (var warning in checks.Warnings)
        {
            ServerLog.ConfigurationWarning(_lifecycle, warning);
        }

        if (_udp is not null)
        {
            DatagramLog.Listening(_lifecycle, EndPoints.Format(_udp.LocalEndPoint), Pool.Kind.ToName(), _options.Udp!.RatePerIp == 0 ? "unlimited" : _options.Udp.RatePerIp.ToString(System.Globalization.CultureInfo.InvariantCulture), _options.Udp.AllowLowPorts ? "answered" : "not answered");
            _udp.Start();
        }

        _acceptLoop = Task.Run(() => Listener.RunAsync(Tracker.HandOffAsync, _stopping.Token), CancellationToken.None);
        if (_options.StatsInterval > TimeSpan.Zero)
        {
            _stats = new StatsReporter(_options.StatsInterval, Tracker.Counters, Metrics, () => (Pool.Load.Queued, Pool.Load.Busy, _options.PoolSettings.Workers), Pool.Kind.ToName(), _lifecycle, Faults, () => _udp is { } udp ? (udp.Counters.Totals(), udp.Load.Busy, udp.Load.Queued) : null);
        }

        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private UdpEcho BindUdp(UdpSettings udp)
    {
        var endPoint = new IPEndPoint(_options.Host, LocalEndPoint.Port);
        try
        {
            return new UdpEcho(endPoint, _options.ReusePort, udp, _options.Pool, _options.PoolSettings, _lifecycle, TimeProvider.System);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            Listener.Close();
            throw new StartupException($"Cannot bind UDP {EndPoints.Format(endPoint)}: {ex.Message}");
        }
    }

    /// <summary>Ends the drain delay now (as a second Ctrl+C or SIGTERM does): the listener closes and the drain starts.</summary>
    public void EndDrainDelay() => _drainDelay.End();

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        IsDraining = true; // health checks see 503 from now on, while the drain delay still serves new clients
        await _drainDelay.WaitAsync(cancellationToken);
        _stats?.Dispose();
        await _stopping.CancelAsync();
        Listener.Close();
        _udp?.StopReceiving(); // at the same time as the listener: what was received is still echoed below
        await _acceptLoop;
        await Tracker.EndHeaderReadsAsync().CompletesWithinAsync(SessionDrain.Grace, CancellationToken.None); // the stop cancelled them
        var udpDrain = _udp?.DrainAsync(_options.ShutdownTimeout) ?? Task.CompletedTask;
        await SessionDrain.RunAsync(Pool, Tracker.Connections, _options.ShutdownTimeout, _lifecycle, cancellationToken);
        await udpDrain;

        var counters = Tracker.Counters;
        ServerLog.Stopped(_lifecycle, Stopwatch.GetElapsedTime(_startedAt).TotalSeconds, counters.Served, counters.Refused, counters.BytesIn, counters.BytesOut, Pool.Kind.ToName());
    }

    public void Dispose()
    {
        _udp?.Dispose();
        _drainDelay.Dispose();
        _stats?.Dispose();
        _pinned?.Dispose();
        _watchdog.Dispose();
        Tracker.Dispose();
        Metrics.Dispose();
        Listener.Dispose();
        Pool.Dispose();
        _stopping.Dispose();
    }
}
