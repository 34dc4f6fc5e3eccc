using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using EchoServer.Connections;
using EchoServer.Datagrams;
using EchoServer.Diagnostics;
using EchoServer.Listening;
using EchoServer.Pools;
using EchoServer.Tls;
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
    private readonly ComposedServer _server;
    private readonly CancellationTokenSource _stopping = new();
    private readonly DrainDelay _drainDelay;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private Task _acceptLoop = Task.CompletedTask;
    private StatsReporter? _stats;
    private StartupChecks.Report? _checks;
    private UdpEcho? _udp;

    /// <param name="options">The configuration.</param>
    /// <param name="loggerFactory">The logs.</param>
    /// <param name="meterFactory">The meter's owner.</param>
    /// <param name="acceptor">Takes each client from the listening socket.</param>
    /// <param name="stages">Connection stages the host adds, after the built-in ones and before the pool.</param>
    public EchoServerService(ServerOptions options, ILoggerFactory loggerFactory, IMeterFactory meterFactory, ISocketAcceptor acceptor, IEnumerable<IConnectionStage> stages)
    {
        _options = options;
        _lifecycle = loggerFactory.CreateLogger(EchoServerHost.LifecycleCategory);
        Faults = new BackgroundFaults(_lifecycle);
        _server = ServerComposition.Compose(options, loggerFactory, meterFactory, acceptor, stages, Faults, options.Udp is null ? null : () => _udp?.Counters.Totals());
        _drainDelay = new DrainDelay(options.DrainDelay, _lifecycle, options.Pool.ToName());
    }

    /// <summary>The bound endpoint (real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => _server.Listener.LocalEndPoint;

    /// <summary>The connections open now.</summary>
    public ConnectionRegistry Connections => _server.Connections;

    /// <summary>Totals since start.</summary>
    public ServerCounters Counters => _server.Counters;

    /// <summary>Bytes since start, closed and open connections together.</summary>
    public ByteTotals Bytes => _server.Bytes;

    public IWorkPool<ClientConnection> Pool => _server.Pool;

    public ServerMetrics Metrics => _server.Metrics;

    /// <summary>Contains, counts and logs what the server's timers and signal handlers throw.</summary>
    public BackgroundFaults Faults { get; }

    /// <summary>The certificate TLS handshakes get, loaded at start; null without TLS.</summary>
    public ServerCertificate? Certificate => _server.Certificate;

    /// <summary>The UDP echo, once bound; null without --udp.</summary>
    public UdpEcho? Udp => _udp;

    /// <summary>Runs once every listener is bound and before the "Listening on" line, which scripts wait for (the pid file).</summary>
    public Action? OnBound { get; set; }

    /// <summary>True from the moment a stop is requested: health checks report it.</summary>
    public bool IsDraining { get; private set; }

    /// <summary>True while a new client would not be served at once: every connection permit held, or the pool's queue full.</summary>
    public bool IsSaturated => Counters.Active >= _options.MaxConnections || Pool.Load.Queued >= _options.PoolSettings.QueueCapacity;

    /// <summary>Time since the service was built.</summary>
    public TimeSpan Uptime => Stopwatch.GetElapsedTime(_startedAt);

    /// <summary>Each worker's state, the queue and the totals, as text.</summary>
    public string Snapshot() => ServerSnapshot.Render(CaptureSnapshot());

    /// <summary>Each worker's state, the queue and the totals, with <paramref name="history"/> when there is one.</summary>
    public SnapshotData CaptureSnapshot(IReadOnlyList<LiveSample>? history = null) =>
        ServerSnapshot.Capture(Pool.Snapshot(), Connections, Counters, _options.MaxConnections, IsDraining, Uptime, history, _udp is { } udp ? (udp.Counters.Totals(), udp.Load) : null,
            _server.FaultStage is { } faults ? new SnapshotFaults(faults.InForce, faults.Open, faults.Faulted) : null);

    /// <summary>Everything that can fail: the checks, the code paths the server needs later, the pool, the bind. Nothing is announced yet.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var checks = StartupChecks.Run(_options);
        if (checks.Error is not null)
        {
            throw new StartupException(checks.Error);
        }

        _checks = checks;
        try
        {
            _server.Certificate?.Load(); // before the bind: a file that cannot be used stops the start with one line
        }
        catch (TlsSetupException ex)
        {
            throw new StartupException(ex.Message);
        }

        _drainDelay.CountSignals();
        RuntimeWarmUp.Run(Snapshot);
        Pool.Start();
        _server.Listener.Bind();
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
        ServerLog.Listening(_lifecycle, EndPoints.Format(LocalEndPoint), Pool.Kind.ToName(), _options.PoolSettings.Workers, _options.PoolSettings.QueueCapacity, _options.MaxConnections, _options.Faults.Describe());
        ServerLog.DescriptorLimit(_lifecycle, checks.DescriptorLimit, _options.MaxConnections);
        foreach (var warning in checks.Warnings)
        {
            ServerLog.ConfigurationWarning(_lifecycle, warning);
        }

        if (_server.Certificate is { } certificate)
        {
            var tls = certificate.Settings;
            TlsLog.Serving(_lifecycle, certificate.Current.Description, tls.ClientCertificate.ToName() + (tls.ClientCaPath is { } ca ? $", verified against {ca}" : string.Empty), tls.HandshakeTimeout.TotalSeconds);
            if (certificate.Current.DateProblem(DateTimeOffset.UtcNow) is { } problem)
            {
                TlsLog.DateProblem(_lifecycle, problem);
            }
        }

        if (_udp is not null)
        {
            DatagramLog.Listening(_lifecycle, EndPoints.Format(_udp.LocalEndPoint), Pool.Kind.ToName(), _options.Udp!.RatePerIp == 0 ? "unlimited" : _options.Udp.RatePerIp.ToString(System.Globalization.CultureInfo.InvariantCulture), _options.Udp.AllowLowPorts ? "answered" : "not answered");
            _udp.Start();
        }

        _acceptLoop = Task.Run(() => _server.Listener.RunAsync(_server.Dispatcher.HandOffAsync, _stopping.Token), CancellationToken.None);
        if (_options.StatsInterval > TimeSpan.Zero)
        {
            _stats = new StatsReporter(_options.StatsInterval, Counters, Metrics, () => (Pool.Load.Queued, Pool.Load.Busy, _options.PoolSettings.Workers), Pool.Kind.ToName(), _lifecycle, Faults, () => _udp is { } udp ? (udp.Counters.Totals(), udp.Load.Busy, udp.Load.Queued) : null);
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
            return new UdpEcho(endPoint, _options.ReusePort, udp, _options.Pool, _options.PoolSettings, _lifecycle, Faults, TimeProvider.System, injected: _options.Faults);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            _server.Listener.Close();
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
        _server.Listener.Close();
        _udp?.StopReceiving(); // at the same time as the listener: what was received is still echoed below
        await _acceptLoop;
        await _server.DetachedHandOffs.EndAsync().CompletesWithinAsync(SessionDrain.Grace, CancellationToken.None); // the stop cancelled them
        var udpDrain = _udp?.DrainAsync(_options.ShutdownTimeout) ?? Task.CompletedTask;
        await SessionDrain.RunAsync(Pool, Connections, _options.ShutdownTimeout, _lifecycle, cancellationToken);
        await udpDrain;

        var counters = Counters;
        ServerLog.Stopped(_lifecycle, Stopwatch.GetElapsedTime(_startedAt).TotalSeconds, counters.Served, counters.Refused, counters.BytesIn, counters.BytesOut, Pool.Kind.ToName());
    }

    public void Dispose()
    {
        _udp?.Dispose();
        _drainDelay.Dispose();
        _stats?.Dispose();
        _server.PinnedWorkers?.Dispose();
        _server.Watchdog.Dispose();
        _server.Certificate?.Dispose();
        _server.Events.Dispose();
        _server.Metrics.Dispose();
        _server.Listener.Dispose();
        _server.Pool.Dispose();
        _server.Rings?.Dispose(); // after the pool: the rings wait for the sessions they run
        _stopping.Dispose();
    }
}
