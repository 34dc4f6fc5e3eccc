using System.Diagnostics.Metrics;
using System.Net;
using EchoServer.Connections;
using EchoServer.Diagnostics;
using EchoServer.Faults;
using EchoServer.IoUring;
using EchoServer.Listening;
using EchoServer.Pools;
using EchoServer.Tls;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>
/// Builds the server in one place, every part given what it needs through its constructor. Read top to
/// bottom, it is the trip of one connection (src/README.md): the listener, the dispatcher, the stages in
/// order, the pool, the session; what they report to comes first, since every step reports.
/// </summary>
internal static class ServerComposition
{
    /// <param name="options">The configuration.</param>
    /// <param name="loggerFactory">The logs.</param>
    /// <param name="meterFactory">The meter's owner.</param>
    /// <param name="acceptor">Takes each client from the listening socket.</param>
    /// <param name="extraStages">Stages the host adds after the built-in ones, before the pool.</param>
    /// <param name="faults">Contains what the timers throw.</param>
    /// <param name="datagrams">The UDP echo's totals, for the byte counter; null without --udp.</param>
    public static ComposedServer Compose(ServerOptions options, ILoggerFactory loggerFactory, IMeterFactory meterFactory, ISocketAcceptor acceptor, IEnumerable<IConnectionStage> extraStages, BackgroundFaults faults, Func<DatagramTotals?>? datagrams)
    {
        var log = loggerFactory.CreateLogger(EchoServerHost.ConnectionsCategory);

        // What every step reports to: the open connections, the totals, the instruments, the connection log.
        var connections = new ConnectionRegistry();
        var counters = new ServerCounters();
        var metrics = new ServerMetrics(meterFactory, options.Pool.ToName());
        var events = new ConnectionEvents(counters, metrics, log, options.Pool, options.PoolSettings);

        // 1. Accept: a permit of --max-connections before each accept.
        var permits = new ConnectionPermits(options.MaxConnections);
        var listener = new ConnectionListener(new IPEndPoint(options.Host, options.Port), options.Backlog, permits, acceptor, log, options.ReusePort);

        // 2. Hand-off, then 3. the stages, in this order (a stage waiting for the client goes on off the accept loop).
        var detached = new DetachedHandOffs();
        var proxyProtocol = options.ProxyProtocol != ProxyProtocolMode.Off ? new ProxyProtocolSettings(options.ProxyProtocol, options.TrustedProxies, ProxyHeaderStage.Deadline, options.BufferSize) : null;
        List<IConnectionStage> stages = [];
        if (proxyProtocol is not null)
        {
            stages.Add(new ProxyHeaderStage(proxyProtocol, detached, log));
        }

        if (options.MaxConnectionsPerIp > 0)
        {
            stages.Add(new PerAddressStage(options.MaxConnectionsPerIp));
        }

        // The handshake after the per-address limit (no handshake's work for a refused address), before any later stage.
        var certificate = options.Tls is { } tls ? new ServerCertificate(tls, log, faults) : null;
        if (certificate is not null)
        {
            stages.Add(new TlsHandshakeStage(certificate, detached, log));
        }

        stages.AddRange(extraStages);

        // Last, so that it shapes what every earlier stage set up (a TLS session); connections not faulted keep the fast path.
        var faultStage = options.Faults.ShapesStreams ? new FaultStage(options.Faults) : null;
        if (faultStage is not null)
        {
            stages.Add(faultStage);
        }

        // 4. The pool, and 5. the session it runs, one path for both pools.
        var rings = options.IoEngine == IoEngine.IoUring && options.Pool == PoolKind.Executor ? StartRings(options, loggerFactory) : null;
        var pool = CreatePool(options, new SessionRunner(events, options.BufferSize, log, options.Pool, rings), metrics, log);
        var dispatcher = new ConnectionDispatcher(connections, events, permits, stages, new PoolStage(pool, events).SubmitAsync);

        // 6. Stopped from outside: the timeouts of every open connection, on one timer.
        var watchdog = new ConnectionWatchdog(connections, options.IdleTimeout, options.SendTimeout, faults, proxyProtocol?.WatchdogHeaderTimeout ?? TimeSpan.Zero, options.Tls?.HandshakeTimeout ?? TimeSpan.Zero);
        var pinned = options.Pool == PoolKind.Workers ? new PinnedWorkersMonitor(pool, connections, log, faults) : null;

        // The instruments read when collected, now that the pool they read exists.
        var bytes = new ByteTotals(connections, counters);
        metrics.Observe(() => counters.Active, () => pool.Load, () => [.. pool.Snapshot().Queue.Select(w => w.Waited)], bytes.SoFar, datagrams);
        return new ComposedServer(listener, dispatcher, detached, connections, counters, metrics, events, bytes, pool, watchdog, pinned, certificate, faultStage, rings);
    }

    private static IWorkPool<ClientConnection> CreatePool(ServerOptions options, SessionRunner sessions, ServerMetrics metrics, ILogger log) =>
        options.Pool == PoolKind.Workers
            ? new WorkerThreadPool<ClientConnection>(options.PoolSettings, sessions.Run, Refuse, log, slotWaited: metrics.SlotGranted)
            : new BoundedExecutor<ClientConnection>(options.PoolSettings, sessions.RunAsync, Refuse, log, metrics.SlotGranted);

    private static RingEngine StartRings(ServerOptions options, ILoggerFactory loggerFactory)
    {
        try
        {
            return RingEngine.Start(options.BufferSize, loggerFactory.CreateLogger(EchoServerHost.LifecycleCategory));
        }
        catch (RingException ex)
        {
            throw new StartupException($"--io-engine io_uring: the kernel refuses io_uring ({ex.Message}); use --io-engine sockets.");
        }
    }

    private static void Refuse(ClientConnection connection, CloseReason reason) => connection.Refuse(reason);
}
