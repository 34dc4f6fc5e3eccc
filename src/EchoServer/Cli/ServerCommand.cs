using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using EchoServer.CommandLine;
using EchoServer.Connections;
using EchoServer.Datagrams;
using EchoServer.Hosting;
using EchoServer.IoUring;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Cli;

/// <summary>The command line: every option with its default, its validation, and the mapping to <see cref="ServerOptions"/>.</summary>
internal sealed partial class ServerCommand
{
    private static readonly ServerOptions Defaults = new();

    public ServerCommand()
    {
        Root = new RootCommand(
            "EchoServer: a TCP echo server (RFC 862) with pluggable thread pools. Every byte a client sends comes back " +
            "unchanged. Pick --pool executor (the default: a bounded executor; a client takes one of --workers slots only " +
            "while it has data to echo, so idle clients cost only memory) or --pool workers (the classic thread-per-client " +
            "model: dedicated threads with blocking I/O, each holding one client for the client's whole life).");
        foreach (var option in All)
        {
            Root.Options.Add(option);
        }

        Root.Validators.Add(ValidateStopDeadline);
        Root.Validators.Add(Tls.Validate);
        Root.Validators.Add(ValidateIoEngine);
        Root.Validators.Add(ValidateFaults);
        PidFile.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && string.IsNullOrWhiteSpace(r.Tokens[0].Value))
            {
                r.AddError("--pid-file takes a file path (got '').");
            }
        });
    }

    public RootCommand Root { get; }

    public Option<IPAddress> Host { get; } = new("--host")
    {
        Description = "Address to listen on: 127.0.0.1, 0.0.0.0, :: (IPv6 and IPv4), any dotted quad or IPv6 literal, or localhost.",
        DefaultValueFactory = _ => Defaults.Host,
        CustomParser = r => ParseAddress(r, "--host"),
    };

    public Option<int> Port { get; } = OptionFactory.Ranged(new("--port") { Description = "TCP port; 0 picks a free one (read it from the first log line).", DefaultValueFactory = _ => Defaults.Port }, 0, 65535);

    public Option<bool> ReusePort { get; } = ReusePortOption();

    public Option<int> Backlog { get; } = OptionFactory.Ranged(new("--backlog") { Description = "Kernel listen backlog: connects waiting to be accepted.", DefaultValueFactory = _ => Defaults.Backlog }, 1, 65535);

    public Option<int> MaxConnections { get; } = OptionFactory.Ranged(new("--max-connections") { Description = "Connections held at once (queued + being echoed); at the limit, accepting pauses.", DefaultValueFactory = _ => Defaults.MaxConnections }, 1, 1_000_000);

    public Option<string> Pool { get; } = OptionFactory.Choice(new("--pool") { Description = "Which pool serves clients: executor (slots bound echoes running at once; idle clients hold none) or workers (one dedicated thread per client, idle or not).", DefaultValueFactory = _ => Defaults.Pool.ToName() }, [.. PoolKindNames.All]);

    public Option<string> IoEngine { get; } = OptionFactory.Choice(new("--io-engine") { Description = "executor: what drives the sessions' reads and sends: sockets (the runtime's, epoll on Linux) or io_uring (rings of our own, Linux 6.1+; exits 2 if the kernel refuses io_uring).", DefaultValueFactory = _ => Defaults.IoEngine.ToName() }, [.. IoEngineNames.All]);

    public Option<int> Workers { get; } = OptionFactory.Ranged(new("--workers") { Description = "executor: echoes running at once (idle clients hold no slot). workers: dedicated threads, each holding one client for its whole life.", DefaultValueFactory = _ => Defaults.PoolSettings.Workers }, 1, 100_000);

    public Option<int> Queue { get; } = OptionFactory.Ranged(new("--queue") { Description = "Clients that may wait, oldest first, for a slot (executor: clients with data) or a worker (workers: new clients).", DefaultValueFactory = _ => Defaults.PoolSettings.QueueCapacity }, 1, 1_000_000);

    public Option<string> WhenFull { get; } = OptionFactory.Choice(new("--when-full") { Description = "When every slot is busy and the queue is full: reject the newcomer, wait (workers: stop accepting; executor: stop reading that client), or drop-oldest waiting client not yet served (none: reject). New clients only: an executor client already served waits its turn, even past --queue, until --queue-timeout.", DefaultValueFactory = _ => Defaults.PoolSettings.WhenFull.ToName() }, [.. WhenFullNames.All]);

    public Option<Duration> QueueTimeout { get; } = OptionFactory.Duration("--queue-timeout", "Close a client that waited in the queue longer than this (executor: a client whose data waited that long for a slot, even if served before); seconds, or 500ms, 2s, 1m; 0 = no limit.", Defaults.PoolSettings.QueueTimeout);

    public Option<ByteSize> BufferSize { get; } = new("--buffer-size")
    {
        Description = "Receive buffer per worker (workers) or per busy session (executor): 16384, 16KiB, 64K, 1MiB.",
        DefaultValueFactory = _ => new ByteSize(Defaults.BufferSize),
        CustomParser = r => OptionFactory.ParseSize(r, 1, 16L << 20, "16384 or 16KiB"),
    };

    public Option<Duration> IdleTimeout { get; } = OptionFactory.Duration("--idle-timeout", "Close a client that sends nothing for this long (frees workers pinned by silent clients); 0 = never.", Defaults.IdleTimeout);

    public Option<Duration> SendTimeout { get; } = OptionFactory.Duration("--send-timeout", "Close a client that does not read our echo for this long (a slow reader); 0 = never.", Defaults.SendTimeout);

    public Option<int> MaxConnectionsPerIp { get; } = OptionFactory.Ranged(new("--max-connections-per-ip") { Description = "Open connections allowed from one client address; the next is refused (per-ip-limit). 0 = no limit.", DefaultValueFactory = _ => Defaults.MaxConnectionsPerIp }, 0, 1_000_000);

    public Option<ProxyProtocolMode> ProxyProtocol { get; } = new("--proxy-protocol")
    {
        Description = $"Connections from a --trusted-proxies source start with a PROXY protocol header (v1 or v2, detected); the client address in it is the one logged, shown and limited per address. required (also given bare): a connection without a valid header within {ProxyHeaderStage.Deadline.TotalSeconds:0} s, or from another source, is closed (proxy-header). optional: one whose first bytes are not a header's, or silent for {ProxyHeaderStage.Deadline.TotalSeconds:0} s, is echoed as it is, and another source's bytes are data from the first.",
        HelpName = string.Join('|', ProxyProtocolModeNames.Given),
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseProxyProtocol, // not given: off, the enum's default, which no user spells
    };

    public Option<TrustedProxies> TrustedProxies { get; } = new("--trusted-proxies")
    {
        Description = "With --proxy-protocol: comma-separated CIDR ranges (or addresses) allowed to send the header, e.g. 10.0.0.0/8,fd00::/8.",
        DefaultValueFactory = _ => Defaults.TrustedProxies,
        CustomParser = ParseTrustedProxies,
    };

    public Option<Duration> ShutdownTimeout { get; } = OptionFactory.Duration("--shutdown-timeout", "On Ctrl+C/SIGTERM, how long active sessions may finish before they are closed.", Defaults.ShutdownTimeout);

    public Option<Duration> DrainDelay { get; } = OptionFactory.Duration("--drain-delay", "On Ctrl+C/SIGTERM, keep accepting and serving this long while /ready answers 503 draining, so that a load balancer stops sending clients before the listener closes; a second Ctrl+C/SIGTERM ends the delay. 0 = close the listener at once.", Defaults.DrainDelay);

    public Option<bool> InlineCompletions { get; } = new("--inline-completions")
    {
        Description = "Executor: run socket completions on the runtime's I/O threads (true, the default) or queue each to the .NET thread pool (false, e.g. --inline-completions false). Inline gives more messages/s, less CPU per message and lower latency.",
        DefaultValueFactory = _ => Defaults.InlineCompletions,
    };

    public Option<Duration> StatsInterval { get; } = OptionFactory.Duration("--stats-interval", "Log one stats line this often (connections/s, MiB/s, queue, busy workers, refused, p99 queue wait with the waits in progress, oldest queue wait); 0 = off.", Defaults.StatsInterval);

    public Option<int?> AdminPort { get; } = OptionFactory.RangedOptional(new("--admin-port") { Description = "Serve /healthz, /ready, /snapshot and /metrics (Prometheus) over HTTP on --admin-host at this port (0 = any free port). Off unless given." }, 0, 65535);

    public Option<IPAddress> AdminHost { get; } = new("--admin-host")
    {
        Description = "Address the admin endpoint listens on: 127.0.0.1, 0.0.0.0 or :: (every interface), any dotted quad or IPv6 literal, or localhost. It serves no secrets, but belongs on a private interface: a load balancer's health checks and Prometheus need it, the internet does not.",
        DefaultValueFactory = _ => Defaults.AdminHost,
        CustomParser = r => ParseAddress(r, "--admin-host"),
    };

    public Option<string?> PidFile { get; } = new("--pid-file") { Description = "Write the process id to this file once listening; removed at a clean exit if it still holds that id. Only a regular file or a new path: a directory, device or pipe is refused." };
    public Option<bool> Udp { get; } = new("--udp")
    {
        Description = "Also echo UDP datagrams on --host:--port (the same port number), through the same kind of pool: each datagram comes back once, unchanged, from the address it was sent to.",
    };

    public Option<int> UdpRatePerIp { get; } = OptionFactory.Ranged(new("--udp-rate-per-ip") { Description = "With --udp: datagrams per second echoed to one source address, the rest dropped (rate-limit), so that a spoofed source cannot aim us at a victim; 0 = no limit (for load tests on loopback).", DefaultValueFactory = _ => UdpSettings.DefaultRatePerIp }, 0, 100_000_000);

    public Option<bool> UdpAllowLowPorts { get; } = new("--udp-allow-low-ports")
    {
        Description = "With --udp: also answer source ports 1-1023 (services' ports: echo and chargen answering each other forever). Port 0 is never answered.",
    };

    /// <summary>--tls-cert and the options that go with it.</summary>
    public TlsOptions Tls { get; } = new();

    public Option<LogLevel> LogLevel { get; } = new("--log-level") { Description = "Lowest level logged.", DefaultValueFactory = _ => Defaults.LogLevel, CustomParser = ParseLogLevel };

    public Option<string> LogFormat { get; } = OptionFactory.Choice(new("--log-format") { Description = "Console log format.", DefaultValueFactory = _ => "simple" }, "simple", "json", "systemd");

    private IEnumerable<Option> All =>
    [
        Host, Port, ReusePort, Backlog, MaxConnections, MaxConnectionsPerIp, ProxyProtocol, TrustedProxies, .. Tls.All, Pool, IoEngine, Workers, Queue, WhenFull, QueueTimeout, BufferSize, IdleTimeout, SendTimeout, InlineCompletions, DrainDelay, ShutdownTimeout, StatsInterval, Udp, UdpRatePerIp, UdpAllowLowPorts, AdminHost, AdminPort, PidFile, LogLevel, LogFormat, .. FaultOptions,
    ];

    /// <summary>Maps a parse result without errors to options.</summary>
    public ServerOptions Bind(ParseResult result) => new()
    {
        Host = result.GetValue(Host)!,
        Port = result.GetValue(Port),
        ReusePort = result.GetValue(ReusePort),
        Backlog = result.GetValue(Backlog),
        MaxConnections = result.GetValue(MaxConnections),
        MaxConnectionsIsDefault = result.GetResult(MaxConnections) is null or { Implicit: true },
        Pool = PoolKindNames.Parse(result.GetValue(Pool)!),
        IoEngine = IoEngineNames.Parse(result.GetValue(IoEngine)!),
        PoolSettings = new PoolSettings
        {
            Workers = result.GetValue(Workers),
            QueueCapacity = result.GetValue(Queue),
            WhenFull = WhenFullNames.Parse(result.GetValue(WhenFull)!),
            QueueTimeout = result.GetValue(QueueTimeout).Value,
        },
        BufferSize = (int)result.GetValue(BufferSize).Bytes,
        IdleTimeout = result.GetValue(IdleTimeout).Value,
        SendTimeout = result.GetValue(SendTimeout).Value,
        MaxConnectionsPerIp = result.GetValue(MaxConnectionsPerIp),
        ProxyProtocol = result.GetValue(ProxyProtocol),
        TrustedProxies = result.GetValue(TrustedProxies)!,
        DrainDelay = result.GetValue(DrainDelay).Value,
        ShutdownTimeout = result.GetValue(ShutdownTimeout).Value,
        StatsInterval = result.GetValue(StatsInterval).Value,
        InlineCompletions = result.GetValue(InlineCompletions),
        AdminHost = result.GetValue(AdminHost)!,
        AdminPort = result.GetValue(AdminPort),
        Udp = result.GetValue(Udp) ? new UdpSettings { RatePerIp = result.GetValue(UdpRatePerIp), AllowLowPorts = result.GetValue(UdpAllowLowPorts) } : null,
        PidFile = result.GetValue(PidFile),
        Tls = Tls.Bind(result),
        Faults = BindFaults(result),
        LogLevel = result.GetValue(LogLevel),
        LogFormat = result.GetValue(LogFormat) switch
        {
            "json" => Hosting.LogFormat.Json,
            "systemd" => Hosting.LogFormat.Systemd,
            _ => Hosting.LogFormat.Simple,
        },
    };

    /// <summary>A level by name only: the enum parser also takes any number (99, -1), which names no level.</summary>
    private static LogLevel ParseLogLevel(ArgumentResult r)
    {
        string token = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
        foreach (var level in Enum.GetValues<LogLevel>())
        {
            if (string.Equals(token, level.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                return level;
            }
        }

        r.AddError($"--log-level takes one of {string.Join(", ", Enum.GetNames<LogLevel>())} (got '{token}').");
        return Defaults.LogLevel;
    }

    /// <summary>Bare, it means required, as it did before optional existed.</summary>
    private static ProxyProtocolMode ParseProxyProtocol(ArgumentResult r)
    {
        if (r.Tokens.Count == 0)
        {
            return ProxyProtocolMode.Required;
        }

        string token = r.Tokens[0].Value;
        if (ProxyProtocolModeNames.Parse(token) is { } mode)
        {
            return mode;
        }

        r.AddError($"--proxy-protocol takes {string.Join(" or ", ProxyProtocolModeNames.Given)}, or nothing for required (got '{token}').");
        return ProxyProtocolMode.Off;
    }

    private static TrustedProxies? ParseTrustedProxies(ArgumentResult r)
    {
        string token = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
        string? error = LegacyAddressIn(token);
        if (error is null && Connections.TrustedProxies.TryParse(token, out var proxies, out error))
        {
            return proxies;
        }

        r.AddError($"--trusted-proxies takes comma-separated CIDR ranges such as 10.0.0.0/8,fd00::/8 (got '{token}': {error}).");
        return null;
    }

    /// <summary>
    /// A stop may take the drain delay, then the shutdown timeout, then the host's own allowance on top: the host
    /// arms one timer for the sum, and a timer refuses more than 2^32-2 ms (about 49.7 days), which would end the
    /// first SIGTERM with an exception instead of a drain. The sum gets the same bound as each duration option.
    /// </summary>
    private void ValidateStopDeadline(CommandResult r)
    {
        if (GivenOrDefault(r, DrainDelay, Defaults.DrainDelay) is { } drain
            && GivenOrDefault(r, ShutdownTimeout, Defaults.ShutdownTimeout) is { } shutdown
            && drain + shutdown > OptionFactory.LongestDuration)
        {
            r.AddError($"--drain-delay and --shutdown-timeout take at most {OptionFactory.LongestDuration.TotalHours:0}h ({OptionFactory.LongestDuration.TotalDays:0} days) together, the longest a timer can wait (got {InHours(drain)} + {InHours(shutdown)}).");
        }
    }

    private void ValidateIoEngine(CommandResult r)
    {
        // The tokens, not the values: a value that failed its own validation would throw here.
        if (r.GetResult(IoEngine) is { Tokens: [{ Value: "io_uring" }, ..] } && r.GetResult(Pool) is { Tokens: [{ Value: "workers" }, ..] })
        {
            r.AddError("--io-engine io_uring drives the executor's sessions; the worker pool's threads block in the runtime's sockets: use --pool executor, or leave --io-engine out.");
        }
    }

    private static string InHours(TimeSpan value) =>
        value >= TimeSpan.FromHours(1) ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value.TotalHours:0.##}h") : new Duration(value).ToString();

    /// <summary>The option's duration from its own token (null when its own parser refuses it, and says so), or the default.</summary>
    private static TimeSpan? GivenOrDefault(CommandResult r, Option<Duration> option, TimeSpan defaultValue)
    {
        var given = r.GetResult(option);
        if (given is null || given.Implicit || given.Tokens.Count == 0)
        {
            return defaultValue;
        }

        return Duration.TryParse(given.Tokens[^1].Value, out var duration) && duration.Value <= OptionFactory.LongestDuration ? duration.Value : null;
    }

    /// <summary>The first entry in a legacy numeric form (<c>0x10</c>, <c>10.1/16</c>) as an error; other mistakes are the ranges' parser's to report.</summary>
    private static string? LegacyAddressIn(string token)
    {
        foreach (string entry in token.Split(',', StringSplitOptions.TrimEntries))
        {
            int slash = entry.IndexOf('/', StringComparison.Ordinal);
            string address = slash < 0 ? entry : entry[..slash];
            if (IPAddress.TryParse(address, out _) && !IPLiteral.TryParse(address, out _))
            {
                return $"'{address}' is not a dotted quad or an IPv6 literal";
            }
        }

        return null;
    }

    private static Option<bool> ReusePortOption()
    {
        var option = new Option<bool>("--reuse-port")
        {
            Description = "Share --port with other echo-server processes started with --reuse-port (SO_REUSEPORT; Linux and macOS): the kernel spreads new connections across them. Without it a port in use fails start-up.",
        };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<bool>() && !Listening.ListenSocket.SupportsReusePort)
            {
                r.AddError("--reuse-port needs SO_REUSEPORT, which this system lacks (Linux and macOS have it).");
            }
        });
        return option;
    }

    private static IPAddress? ParseAddress(ArgumentResult r, string name)
    {
        string token = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
        if (string.Equals(token, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPLiteral.TryParse(token, out var address))
        {
            return address;
        }

        r.AddError($"{name} takes an IP address (a dotted quad or an IPv6 literal) such as 127.0.0.1, 0.0.0.0 or :: (got '{token}').");
        return null;
    }
}
