using System.CommandLine;
using System.Globalization;
using System.Net;
using EchoServer.CommandLine;

namespace EchoServer.LoadTest;

/// <summary>echo-load's command line.</summary>
internal sealed partial class LoadCommand
{
    private static readonly LoadOptions Defaults = new();

    public LoadCommand()
    {
        Root = new RootCommand("echo-load: load generator for TCP and UDP echo servers. Every echoed byte is verified; latency per message is recorded with HdrHistogram.\n\n" + LoadExitCodes.Help);
        foreach (var option in new Option[] { Host, Port, Udp, Mode, ProxyProtocol, ProxySource, Connections, MessageSize, Duration, Messages, Pipeline, Rate, Warmup, ConnectTimeout, ReplyTimeout, Json, Label, ServerPid, Progress }.Concat(TlsOptions))
        {
            Root.Options.Add(option);
        }

        Summarize.Arguments.Add(SummarizeDirectory);
        Summarize.Options.Add(SummarizeTitle);
        Root.Subcommands.Add(Summarize);
        Compare.Arguments.Add(CompareDirectory);
        Compare.Options.Add(CompareTitle);
        Root.Subcommands.Add(Compare);

        Root.Validators.Add(r =>
        {
            if (r.GetResult(Messages) is not null && r.GetResult(Duration) is not null)
            {
                r.AddError("--duration and --messages are alternatives: give one.");
            }

            if (r.GetResult(Label)?.Tokens.Any(t => !t.Value.Contains('=', StringComparison.Ordinal) || t.Value.StartsWith('=')) == true)
            {
                r.AddError("--label takes key=value.");
            }

            if (r.GetResult(Messages) is not null && r.GetResult(Warmup) is not null)
            {
                r.AddError("--warmup goes with --duration, not with --messages.");
            }

            if (r.GetResult(Udp) is not null)
            {
                ValidateUdp(r);
            }

            ValidateProxyProtocol(r);
            ValidateTls(r);
        });
    }

    public RootCommand Root { get; }

    public Option<bool> Udp { get; } = new("--udp")
    {
        Description = $"Echo over UDP: each of -c is a UDP socket (its own source port), ping-pong or open loop (--rate); a datagram unanswered for --reply-timeout (default {LoadOptions.UdpReplyTimeout.TotalSeconds:0} s with --udp) is lost and ping-pong sends the next. Each datagram starts with its 8-byte sequence number: -s from 8 to 65507. Reports loss, duplicates, reordering and late replies.",
    };

    /// <summary><c>echo-load summarize DIR</c>: DIR/summary.md and the charts (throughput and latency, PNG and SVG) from the JSON reports in DIR.</summary>
    public Command Summarize { get; } = new("summarize", "Write summary.md (a table), throughput.png/.svg (bars per scenario and configuration) and latency.png/.svg (latency by percentile) from the JSON reports in a folder.");

    public Argument<DirectoryInfo> SummarizeDirectory { get; } = new Argument<DirectoryInfo>("directory") { Description = "Folder holding the JSON reports." }.AcceptExistingOnly();

    /// <summary><c>echo-load compare DIR</c>: the benchmark table (servers × workloads) and the targets, from reports labelled server= and workload=.</summary>
    public Command Compare { get; } = new("compare", "Print the benchmark table (servers × workloads, with server CPU) and each target as a ratio to its reference server, from JSON reports labelled server= and workload=; writes bench.md, throughput.png/.svg and latency.png/.svg.");

    public Argument<DirectoryInfo> CompareDirectory { get; } = new Argument<DirectoryInfo>("directory") { Description = "Folder holding the JSON reports." }.AcceptExistingOnly();

    public Option<string> SummarizeTitle { get; } = new("--title") { Description = "Chart title.", DefaultValueFactory = _ => "echo-load results" };

    public Option<string> CompareTitle { get; } = new("--title") { Description = "Chart title.", DefaultValueFactory = _ => "echo-load benchmark" };

    public Option<string> Host { get; } = new("--host") { Description = "Server address or name.", DefaultValueFactory = _ => Defaults.Host };

    public Option<int> Port { get; } = OptionFactory.Ranged(new("--port") { Description = "Server port.", DefaultValueFactory = _ => Defaults.Port }, 1, 65535);

    public Option<string> Mode { get; } = OptionFactory.Choice(
        new("--mode") { Description = "echo: messages on open connections; connect: connect, echo one message, close, repeat; hold: open the connections, echo once each, keep them open.", DefaultValueFactory = _ => LoadModeNames.Of(Defaults.Mode) },
        [.. Enum.GetValues<LoadMode>().Select(LoadModeNames.Of)]);

    public Option<int> Connections { get; } = OptionFactory.Ranged(new("--connections", "-c") { Description = "Concurrent connections.", DefaultValueFactory = _ => Defaults.Connections }, 1, 1_000_000);

    public Option<ByteSize> MessageSize { get; } = new("--message-size", "-s")
    {
        Description = "Bytes per message: 64, 1KiB, 16KiB, 1MiB.",
        DefaultValueFactory = _ => new ByteSize(Defaults.MessageSize),
        CustomParser = r => OptionFactory.ParseSize(r, 1, 64L << 20, "64, 1KiB or 16KiB"),
    };

    public Option<Duration> Duration { get; } = OptionFactory.Duration("--duration", "How long to measure (10, 500ms, 30s, 2m).", Defaults.Duration, alias: "-d");

    public Option<long?> Messages { get; } = new("--messages", "-n") { Description = "Total messages to echo across all connections, instead of --duration." };

    public Option<int> Pipeline { get; } = OptionFactory.Ranged(new("--pipeline", "-p") { Description = "Messages in flight per connection; 1 = ping-pong.", DefaultValueFactory = _ => Defaults.Pipeline }, 1, 4096);

    public Option<double?> Rate { get; } = new("--rate") { Description = "Target messages/s across all connections, sent on schedule (open loop); latency counts from when each message was due." };

    public Option<Duration> Warmup { get; } = OptionFactory.Duration("--warmup", "Load run first and not counted; over TCP it starts once every connection has connected.", Defaults.Warmup);

    public Option<Duration> ConnectTimeout { get; } = OptionFactory.Duration("--connect-timeout", "A connect slower than this counts as connect-timeout.", Defaults.ConnectTimeout);

    public Option<Duration> ReplyTimeout { get; } = OptionFactory.Duration("--reply-timeout", "A message still unanswered this long when the run ends counts as unanswered (exit code 4); a run with no progress this long ends. With --udp: a datagram unanswered this long is lost.", Defaults.ReplyTimeout);

    public Option<string?> Json { get; } = new("--json") { Description = "Also write the report as JSON to this file; - writes it to stdout (and the text report to stderr)." };

    public Option<string[]> Label { get; } = new("--label")
    {
        Description = "key=value copied into the JSON report (repeatable), e.g. --label pool=workers.",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<int?> ServerPid { get; } = new("--server-pid") { Description = "Process id of a server on this machine: report its CPU time and peak memory during the run (Linux)." };

    public Option<Duration> Progress { get; } = OptionFactory.Duration("--progress", "Interval of the progress line on stderr; 0 = none.", Defaults.ProgressInterval);

    public Option<string?> ProxyProtocol { get; } = new Option<string?>("--proxy-protocol")
    {
        Description = "Send a PROXY protocol header of this version first on every TCP connection, in every mode, as a load balancer would: to test a PROXY-aware server (echo-server --proxy-protocol, HAProxy's accept-proxy, nginx's proxy_protocol) without one. It names --proxy-source as the client and the server's address and port as the destination.",
        HelpName = "v1|v2",
    }.AcceptOnlyFromAmong("v1", "v2");

    public Option<IPEndPoint?> ProxySource { get; } = new("--proxy-source")
    {
        Description = "With --proxy-protocol: the client address the header names, e.g. 203.0.113.7:40000 or [2001:db8::7]:40000; port 0 keeps each connection's own port. Default: each connection's own address and port, as a transparent balancer reports it, so the server logs and counts per address what it would without the header.",
        HelpName = "IP:PORT",
        CustomParser = ParseProxySource,
    };

    /// <summary>The header is TCP's: it starts a stream, and --proxy-source says what it names.</summary>
    private void ValidateProxyProtocol(System.CommandLine.Parsing.CommandResult r)
    {
        bool header = r.GetResult(ProxyProtocol) is { Implicit: false };
        if (header && r.GetResult(Udp) is not null)
        {
            r.AddError("--proxy-protocol starts TCP connections, not --udp datagrams.");
        }

        if (!header && r.GetResult(ProxySource) is not null)
        {
            r.AddError("--proxy-source goes with --proxy-protocol v1 or v2.");
        }
    }

    /// <summary>IP:PORT, the address strict (a dotted quad or a bracketed IPv6 literal) and the port from 0 to 65535.</summary>
    private static IPEndPoint? ParseProxySource(System.CommandLine.Parsing.ArgumentResult r)
    {
        string token = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
        int colon = token.LastIndexOf(':');
        if (colon > 0 && (token[0] == '[' ? token[colon - 1] == ']' : !token[..colon].Contains(':', StringComparison.Ordinal))
            && IPLiteral.TryParse(token[..colon], out var address)
            && int.TryParse(token.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= IPEndPoint.MaxPort)
        {
            return new IPEndPoint(address!, port);
        }

        r.AddError($"--proxy-source takes IP:PORT such as 203.0.113.7:40000 or [2001:db8::7]:40000 (got '{token}').");
        return null;
    }

    /// <summary>UDP is a transport for echo mode's two loops; the one-line errors say what goes with it.</summary>
    private void ValidateUdp(System.CommandLine.Parsing.CommandResult r)
    {
        // Only what was given: a validator sees no defaults.
        if (r.GetResult(Mode) is { Implicit: false } mode && mode.GetValueOrDefault<string>() != LoadModeNames.Of(LoadMode.Echo))
        {
            r.AddError("--udp goes with --mode echo (ping-pong, or open loop with --rate), not connect or hold.");
        }

        if (r.GetResult(Pipeline) is { Implicit: false } pipeline && pipeline.GetValueOrDefault<int>() != 1)
        {
            r.AddError("--udp runs ping-pong or open loop (--rate), not --pipeline.");
        }

        if (r.GetResult(MessageSize) is { Implicit: false } size && size.GetValueOrDefault<ByteSize>().Bytes is < LoadRunner.DatagramHeader or > LoadRunner.MaxDatagram)
        {
            r.AddError($"--udp takes --message-size from {LoadRunner.DatagramHeader} (each datagram starts with its sequence number) to {LoadRunner.MaxDatagram} bytes (the largest UDP payload over IPv4).");
        }
    }

    public LoadOptions Bind(ParseResult r) => new()
    {
        Udp = r.GetValue(Udp),
        Tls = BindTls(r),
        Host = r.GetValue(Host)!,
        Port = r.GetValue(Port),
        Mode = LoadModeNames.Parse(r.GetValue(Mode)!),
        Connections = r.GetValue(Connections),
        ProxyProtocol = r.GetValue(ProxyProtocol) switch { "v1" => 1, "v2" => 2, _ => null },
        ProxySource = r.GetValue(ProxySource),
        MessageSize = (int)r.GetValue(MessageSize).Bytes,
        Duration = r.GetValue(Duration).Value,
        Messages = r.GetValue(Messages),
        Pipeline = r.GetValue(Pipeline),
        Rate = r.GetValue(Rate),
        Warmup = r.GetValue(Warmup).Value,
        ConnectTimeout = r.GetValue(ConnectTimeout).Value,
        ReplyTimeout = r.GetValue(Udp) && (r.GetResult(ReplyTimeout) is null or { Implicit: true }) ? LoadOptions.UdpReplyTimeout : r.GetValue(ReplyTimeout).Value,
        JsonPath = r.GetValue(Json),
        ServerPid = r.GetValue(ServerPid),
        Labels = (r.GetValue(Label) ?? []).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty),
        ProgressInterval = r.GetValue(Progress).Value,
    };
}
