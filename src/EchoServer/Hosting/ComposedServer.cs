using EchoServer.Connections;
using EchoServer.Diagnostics;
using EchoServer.Faults;
using EchoServer.IoUring;
using EchoServer.Listening;
using EchoServer.Pools;
using EchoServer.Tls;

namespace EchoServer.Hosting;

/// <summary>The parts <see cref="ServerComposition.Compose"/> built, for the service to start, stop and dispose.</summary>
internal sealed record ComposedServer(
    ConnectionListener Listener,
    ConnectionDispatcher Dispatcher,
    DetachedHandOffs DetachedHandOffs,
    ConnectionRegistry Connections,
    ServerCounters Counters,
    ServerMetrics Metrics,
    ConnectionEvents Events,
    ByteTotals Bytes,
    IWorkPool<ClientConnection> Pool,
    ConnectionWatchdog Watchdog,
    PinnedWorkersMonitor? PinnedWorkers,
    ServerCertificate? Certificate,
    FaultStage? FaultStage = null,
    RingEngine? Rings = null);
