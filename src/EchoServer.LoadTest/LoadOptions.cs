using System.Net;

namespace EchoServer.LoadTest;

/// <summary>One load run's settings.</summary>
internal sealed record LoadOptions
{
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 7007;

    public LoadMode Mode { get; init; } = LoadMode.Echo;

    /// <summary>Echo over UDP instead of TCP: each of the <see cref="Connections"/> is a UDP socket, in ping-pong or open loop.</summary>
    public bool Udp { get; init; }

    /// <summary>TLS on every TCP connection (<c>--tls</c>), or null for plaintext.</summary>
    public TlsClientOptions? Tls { get; init; }

    public int Connections { get; init; } = 10;

    /// <summary>The PROXY protocol version (1 or 2) whose header starts every TCP connection; null for none.</summary>
    public int? ProxyProtocol { get; init; }

    /// <summary>
    /// The client address the header names; null for each connection's own local address and port (what a
    /// transparent balancer would report). A port of 0 stands for each connection's own port.
    /// </summary>
    public IPEndPoint? ProxySource { get; init; }

    public int MessageSize { get; init; } = 64;

    /// <summary>How long to measure; ignored when <see cref="Messages"/> is set.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Total messages to echo across all connections, instead of a duration.</summary>
    public long? Messages { get; init; }

    /// <summary>Messages in flight per connection; 1 is ping-pong.</summary>
    public int Pipeline { get; init; } = 1;

    /// <summary>Target messages per second across all connections (open loop), or null for as fast as replies allow.</summary>
    public double? Rate { get; init; }

    /// <summary>
    /// Open loop over UDP: the most datagrams one socket keeps in flight (and remembers, to tell a late reply from a
    /// duplicate); by default twice what the socket sends in a reply timeout, at least 1,024.
    /// </summary>
    public int? UdpWindow { get; init; }

    /// <summary>Load run before measuring starts, not counted.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.Zero;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one message may take to come back before the connection counts as stalled (UDP: before the datagram counts as lost).</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The reply timeout with <c>--udp</c> when none is given: a lost datagram is the normal case there, not a stall.</summary>
    public static readonly TimeSpan UdpReplyTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Free-form key=value labels copied into the JSON report (e.g. pool=workers), for summaries.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Process id of a local server whose CPU time and memory to sample during the run (Linux).</summary>
    public int? ServerPid { get; init; }

    /// <summary>Where to write the JSON report, if anywhere.</summary>
    public string? JsonPath { get; init; }

    /// <summary>Seconds between progress lines; zero for none.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);
}
