using System.Net;
using EchoServer.Connections;
using EchoServer.Datagrams;
using EchoServer.Faults;
using EchoServer.IoUring;
using EchoServer.Pools;
using EchoServer.Tls;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>Everything the server is configured with; the command line fills it, tests build it directly.</summary>
internal sealed record ServerOptions
{
    /// <summary>Address to bind. Defaults to 127.0.0.1; <see cref="IPAddress.IPv6Any"/> listens dual-stack.</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>Port to bind; 0 picks a free one. Defaults to 7007.</summary>
    public int Port { get; init; } = 7007;

    /// <summary>Share the port with other processes that ask for it too (SO_REUSEPORT, Linux and macOS); the kernel spreads connections across them. Defaults to false: a port in use fails start-up.</summary>
    public bool ReusePort { get; init; }

    /// <summary>Kernel listen backlog. Defaults to 512.</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>Connections open at once, idle, queued or being echoed. Defaults to 10,000: idle clients are cheap in the executor.</summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>
    /// True when --max-connections was not given: start-up then lowers it to what the descriptor limit allows,
    /// with a warning, instead of refusing to start. An explicit value is never changed.
    /// </summary>
    public bool MaxConnectionsIsDefault { get; init; }

    /// <summary>The default --max-connections before start-up lowered it to fit the descriptor limit; null when it was not lowered.</summary>
    public int? MaxConnectionsLoweredFrom { get; init; }

    /// <summary>Which pool runs the sessions. Defaults to the executor, which idle clients cannot shut others out of.</summary>
    public PoolKind Pool { get; init; } = PoolKind.Executor;

    /// <summary>What drives the executor's sessions: the runtime's sockets (the default) or io_uring rings (Linux).</summary>
    public IoEngine IoEngine { get; init; } = IoEngine.Sockets;

    /// <summary>Pool size, queue and overload policy.</summary>
    public PoolSettings PoolSettings { get; init; } = new();

    /// <summary>Receive buffer per worker (workers) or per busy session (executor). Defaults to 16 KiB.</summary>
    public int BufferSize { get; init; } = 16 * 1024;

    /// <summary>A session whose client sends nothing for this long is closed (idle-timeout); zero for never. Defaults to 300 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>A send the client does not take for this long closes the session (send-timeout); zero for never. Defaults to 30 s.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Open connections allowed from one client address; zero for no limit. Defaults to 0.</summary>
    public int MaxConnectionsPerIp { get; init; }

    /// <summary>UDP echo on the same address and port number (--udp), with its settings; null when off (the default).</summary>
    public UdpSettings? Udp { get; init; }

    /// <summary>Whether connections start with a PROXY protocol header (v1 or v2), read before they reach the pool: required, optional, or off. Defaults to off.</summary>
    public ProxyProtocolMode ProxyProtocol { get; init; }

    /// <summary>The sources allowed to send a PROXY protocol header. Defaults to loopback (127.0.0.0/8 and ::1).</summary>
    public TrustedProxies TrustedProxies { get; init; } = TrustedProxies.Loopback;

    /// <summary>TLS on every connection (--tls-cert, --tls-self-signed): the handshake after the PROXY protocol header, before the pool; null for plaintext (the default).</summary>
    public TlsSettings? Tls { get; init; }

    /// <summary>
    /// After a stop is requested, how long the listener keeps accepting and serving while /ready answers 503, so
    /// that a load balancer's health check sees the drain before connects are refused. Defaults to 0 (close at once).
    /// </summary>
    public TimeSpan DrainDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How long active sessions may go on after a stop is requested. Defaults to 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Executor: run socket completions on the runtime's I/O threads instead of handing each to the thread
    /// pool: more throughput, less CPU per message and lower single-connection latency, measured against the
    /// executor's echo loop (a slot turn never blocks). Defaults to true.
    /// </summary>
    public bool InlineCompletions { get; init; } = true;

    /// <summary>Seconds between periodic stats lines; zero for none. Defaults to 0.</summary>
    public TimeSpan StatsInterval { get; init; } = TimeSpan.Zero;

    /// <summary>Address the admin endpoint listens on. Defaults to 127.0.0.1; 0.0.0.0 or :: for every interface.</summary>
    public IPAddress AdminHost { get; init; } = IPAddress.Loopback;

    /// <summary>Port of the admin endpoint (health, readiness, snapshot, metrics) on <see cref="AdminHost"/>; null for none, 0 for any free port.</summary>
    public int? AdminPort { get; init; }

    /// <summary>File the process id is written to once the listener is bound and removed from at a clean exit; null for none.</summary>
    public string? PidFile { get; init; }

    /// <summary>The faults injected on purpose (--fault-*). Defaults to none.</summary>
    public FaultSettings Faults { get; init; } = FaultSettings.None;

    /// <summary>Lowest level logged. Defaults to Information.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>Console log format. Defaults to simple.</summary>
    public LogFormat LogFormat { get; init; } = LogFormat.Simple;
}
