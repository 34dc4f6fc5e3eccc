using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using HdrHistogram;

namespace EchoServer.LoadTest;

/// <summary>One point of the latency distribution: <paramref name="Us"/> microseconds at <paramref name="Percentile"/>.</summary>
internal readonly record struct LatencyPoint(double Percentile, double Us);

/// <summary>Latency percentiles in microseconds.</summary>
internal sealed record LatencyReport(long Count, double P50, double P90, double P99, double P999, double Max, double Mean)
{
    /// <summary>Steps of the distribution, in "nines" (0.1 = a tenth of a decade: 20.6%, 36.9%, ... 90%, 92.1%, ...).</summary>
    private const double NinesStep = 0.1;

    /// <summary>The deepest percentile the distribution goes to: 99.9999% (six nines).</summary>
    private const double MaxNines = 6;

    /// <summary>
    /// The distribution from 0% to as many nines as the count resolves (one message in a million resolves
    /// 99.9999%), ten points a decade: what a percentile plot with a log "nines" axis draws. Empty in reports
    /// written before it was added.
    /// </summary>
    public IReadOnlyList<LatencyPoint> Percentiles { get; init; } = [];

    public static LatencyReport From(HistogramBase histogram) => histogram.TotalCount == 0
        ? new LatencyReport(0, 0, 0, 0, 0, 0, 0)
        : new LatencyReport(
            histogram.TotalCount,
            Us(histogram.GetValueAtPercentile(50)),
            Us(histogram.GetValueAtPercentile(90)),
            Us(histogram.GetValueAtPercentile(99)),
            Us(histogram.GetValueAtPercentile(99.9)),
            Us(histogram.GetMaxValue()),
            Math.Round(histogram.GetMean() / 1000.0, 1))
        {
            Percentiles = Distribution(histogram),
        };

    /// <summary>The percentile <paramref name="nines"/> nines deep: 1 → 90, 2 → 99, 3 → 99.9.</summary>
    public static double PercentileOf(double nines) => Math.Round(100 * (1 - Math.Pow(10, -nines)), 6);

    /// <summary>How many nines deep <paramref name="percentile"/> is: 90 → 1, 99 → 2, 99.9 → 3.</summary>
    public static double NinesOf(double percentile) => -Math.Log10(Math.Max(1 - (percentile / 100), 1e-12));

    private static List<LatencyPoint> Distribution(HistogramBase histogram)
    {
        double deepest = Math.Min(Math.Log10(histogram.TotalCount), MaxNines);
        var points = new List<LatencyPoint>();
        for (int step = 0; step * NinesStep <= deepest + 1e-9; step++)
        {
            double percentile = PercentileOf(step * NinesStep);
            points.Add(new LatencyPoint(percentile, Us(histogram.GetValueAtPercentile(percentile))));
        }

        return points;
    }

    private static double Us(long nanoseconds) => Math.Round(nanoseconds / 1000.0, 1);
}

/// <summary>The result of one load run, as printed and as written to JSON.</summary>
internal sealed record LoadReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public required LoadMode Mode { get; init; }

    /// <summary>"tcp" or "udp" (<c>--udp</c>); reports written before UDP say nothing and were TCP.</summary>
    public string Transport { get; init; } = "tcp";

    /// <summary>UDP: datagrams sent while measuring; each was answered (<see cref="Messages"/>) or lost.</summary>
    public long? DatagramsSent { get; init; }

    /// <summary>UDP: replies to those datagrams, duplicates and late ones included.</summary>
    public long? DatagramsReceived { get; init; }

    /// <summary>UDP: datagrams not answered within <c>--reply-timeout</c>.</summary>
    public long? DatagramsLost { get; init; }

    /// <summary>UDP: replies to a datagram already answered.</summary>
    public long? DatagramsDuplicated { get; init; }

    /// <summary>UDP: first answers that came after the answer to a later datagram of the same socket.</summary>
    public long? DatagramsReordered { get; init; }

    /// <summary>UDP: replies that came after their datagram was counted lost.</summary>
    public long? DatagramsLate { get; init; }

    /// <summary>UDP: lost datagrams as a percentage of those sent.</summary>
    [JsonIgnore]
    public double? LossPercent => DatagramsSent is > 0 ? 100.0 * (DatagramsLost ?? 0) / DatagramsSent.Value : DatagramsSent is null ? null : 0;

    [JsonIgnore]
    public bool IsUdp => Transport == "udp";

    public required string Target { get; init; }

    public required int Connections { get; init; }

    public required int MessageSize { get; init; }

    public required int Pipeline { get; init; }

    public double? TargetRate { get; init; }

    public required double Seconds { get; init; }

    public required long Messages { get; init; }

    public required long Bytes { get; init; }

    public required double MessagesPerSecond { get; init; }

    public required double MiBPerSecond { get; init; }

    /// <summary>Connect mode: connect-echo-close cycles per second; hold mode: connections held.</summary>
    public double? ConnectionsPerSecond { get; init; }

    public long? ConnectionsHeld { get; init; }

    /// <summary>Open loop (<c>--rate</c>): messages in flight per connection on average (Little's law: rate × mean latency).</summary>
    public double? InFlightMean { get; init; }

    /// <summary>Open loop (<c>--rate</c>): the most messages one connection had sent and not yet seen echoed.</summary>
    public long? InFlightPeak { get; init; }

    /// <summary>Connections that got at least one echo (in a saturated pool the others wait in its queue).</summary>
    public long ConnectionsAnswered { get; init; }

    /// <summary>Connections given messages that never got a reply in the whole run (starved in a queue, or a server that does not answer).</summary>
    public long ConnectionsUnanswered { get; init; }

    /// <summary>Messages still unanswered at the end after waiting longer than <c>--reply-timeout</c> (or when the run gave up for lack of progress).</summary>
    public long MessagesUnanswered { get; init; }

    /// <summary>Server CPU seconds per wall second during the run (1.0 = one core busy), with --server-pid.</summary>
    public double? ServerCores { get; init; }

    /// <summary>Server CPU microseconds per echoed message, with --server-pid.</summary>
    public double? ServerCpuUsPerMessage { get; init; }

    /// <summary>Server resident memory at its highest during the run, in MiB, with --server-pid.</summary>
    public double? ServerPeakRssMiB { get; init; }

    /// <summary>echo-load's own CPU seconds per wall second during the run (Linux).</summary>
    public double? ClientCores { get; init; }

    /// <summary>echo-load's own CPU microseconds per echoed message (Linux): beside the server's, what the measurement cost.</summary>
    public double? ClientCpuUsPerMessage { get; init; }

    /// <summary>Bytes echo-load itself allocated per echoed message while measuring (its buffers are allocated once per connection).</summary>
    public double? ClientAllocatedBytesPerMessage { get; init; }

    /// <summary>With <c>--tls</c>: what was negotiated and how the server's certificate was checked; null in plaintext.</summary>
    public TlsReport? Tls { get; init; }

    /// <summary>Latency per message in microseconds (connect mode: per connect-echo-close cycle).</summary>
    public required LatencyReport LatencyUs { get; init; }

    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    /// <summary>
    /// Connections the server closed with a FIN between messages (after at least one echo on that connection, and
    /// before any byte of the reply owed, if one was): not errors, since echo is idempotent and each such message
    /// was sent again on a new connection (as HTTP clients retry on a reused keep-alive connection), but counted.
    /// </summary>
    public long ClosedByServerRetried { get; init; }

    public required bool Interrupted { get; init; }

    [JsonIgnore]
    public long ErrorTotal => Errors.Values.Sum();

    [JsonIgnore]
    public bool HasMismatch => Errors.ContainsKey(ErrorNames.Of(ErrorKind.Mismatch));

    /// <summary>The run's exit code (<see cref="LoadExitCodes"/>): a wrong byte, then errors, then clients left unanswered.</summary>
    [JsonIgnore]
    public int ExitCode =>
        HasMismatch ? LoadExitCodes.Mismatch
        : ErrorTotal > 0 || DatagramsDuplicated > 0 ? LoadExitCodes.Errors
        : ConnectionsUnanswered > 0 || MessagesUnanswered > 0 || DatagramsLost > 0 ? LoadExitCodes.Unanswered
        : LoadExitCodes.Ok;

    public static LoadReport Create(LoadOptions options, IPEndPoint endPoint, LoadStats stats, TimeSpan measured, bool interrupted)
    {
        double seconds = Math.Max(measured.TotalSeconds, 1e-9);
        var latency = LatencyReport.From(stats.Total());
        bool udp = options.Udp;
        return new LoadReport
        {
            Transport = udp ? "udp" : "tcp",
            DatagramsSent = udp ? stats.DatagramsSent : null,
            DatagramsReceived = udp ? stats.DatagramsReceived : null,
            DatagramsLost = udp ? stats.DatagramsLost : null,
            DatagramsDuplicated = udp ? stats.DatagramsDuplicated : null,
            DatagramsReordered = udp ? stats.DatagramsReordered : null,
            DatagramsLate = udp ? stats.DatagramsLate : null,
            Labels = options.Labels,
            Mode = options.Mode,
            Target = endPoint.ToString(),
            Connections = options.Connections,
            MessageSize = options.MessageSize,
            Pipeline = options.Pipeline,
            TargetRate = options.Rate,
            Seconds = Math.Round(seconds, 3),
            Messages = stats.Messages,
            Bytes = stats.Bytes,
            MessagesPerSecond = Math.Round(stats.Messages / seconds, 1),
            MiBPerSecond = Math.Round(stats.Bytes / seconds / (1 << 20), 2),
            ConnectionsPerSecond = options.Mode == LoadMode.Connect ? Math.Round(stats.Connects / seconds, 1) : null,
            ConnectionsHeld = options.Mode == LoadMode.Hold ? stats.Held : null,
            ConnectionsAnswered = options.Mode == LoadMode.Connect ? stats.Connects : stats.AnsweredConnections,
            ConnectionsUnanswered = Math.Max(0, ConnectionsGivenWork(options) - stats.RepliedConnections),
            MessagesUnanswered = stats.OverdueMessages,
            LatencyUs = latency,
            InFlightMean = options.Rate is null ? null : Math.Round(stats.Messages / seconds * latency.Mean / 1e6 / options.Connections, 2),
            InFlightPeak = options.Rate is null ? null : stats.InFlightPeak,
            Errors = stats.Errors(),
            ClosedByServerRetried = stats.ServerCloses,
            Interrupted = interrupted,
        };
    }

    /// <summary>Connections that had messages to send: all of them, unless <c>--messages</c> is smaller than <c>--connections</c>.</summary>
    private static long ConnectionsGivenWork(LoadOptions options) => options.Messages is { } total ? Math.Min(total, options.Connections) : options.Connections;

    public LoadReport WithServerCost(double cpuSeconds, long peakRssBytes) => this with
    {
        ServerCores = Math.Round(cpuSeconds / Math.Max(Seconds, 1e-9), 2),
        ServerCpuUsPerMessage = Messages > 0 ? Math.Round(cpuSeconds * 1e6 / Messages, 2) : null,
        ServerPeakRssMiB = Math.Round(peakRssBytes / (double)(1 << 20), 1),
    };

    public LoadReport WithClientCost(double cpuSeconds) => this with
    {
        ClientCores = Math.Round(cpuSeconds / Math.Max(Seconds, 1e-9), 2),
        ClientCpuUsPerMessage = Messages > 0 ? Math.Round(cpuSeconds * 1e6 / Messages, 2) : null,
    };

    /// <summary>The errors and unanswered counts in one short phrase ("none" when there are none), for tables.</summary>
    public string Problems()
    {
        var parts = Errors.Select(e => $"{e.Key} {e.Value}").ToList();
        if (ConnectionsUnanswered > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"unanswered {ConnectionsUnanswered:N0} of {Connections:N0} connections"));
        }

        if (MessagesUnanswered > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"unanswered {MessagesUnanswered:N0} messages"));
        }

        if (DatagramsLost > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"lost {DatagramsLost:N0} of {DatagramsSent:N0} datagrams"));
        }

        if (DatagramsDuplicated > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"duplicated {DatagramsDuplicated:N0} datagrams"));
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static LoadReport? FromJson(string json) => JsonSerializer.Deserialize<LoadReport>(json, Json);

    public string ToText()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        string load = TargetRate is { } r
            ? string.Create(c, $"open loop at {r:N0} msg/s, in flight per connection: mean {InFlightMean ?? 0:0.##}, peak {InFlightPeak ?? 0:N0}")
            : string.Create(c, $"pipeline {Pipeline}");
        string over = IsUdp ? " over UDP" : Tls is not null ? " over TLS" : string.Empty;
        string units = IsUdp ? "sockets" : "connections";
        load = IsUdp && TargetRate is null ? "ping-pong" : load;
        text.AppendLine(c, $"echo-load {LoadModeNames.Of(Mode)}{over} against {Target}: {Connections} {units}, {MessageSize} B messages, {load}{(Interrupted ? " (interrupted)" : string.Empty)}");
        text.AppendLine(c, $"  measured     {Seconds:F2} s");
        text.AppendLine(c, $"  messages     {Messages:N0} ({MessagesPerSecond:N0} msg/s)");
        if (Mode == LoadMode.Echo)
        {
            text.AppendLine(c, $"  answered     {ConnectionsAnswered:N0} of {Connections:N0} {units} got replies");
        }

        if (IsUdp)
        {
            text.AppendLine(c, $"  datagrams    sent {DatagramsSent:N0}, answered {Messages:N0}, lost {DatagramsLost:N0} ({LossPercent:0.###}%), duplicated {DatagramsDuplicated:N0}, reordered {DatagramsReordered:N0}, late {DatagramsLate:N0}");
        }

        text.AppendLine(c, $"  throughput   {MiBPerSecond:N2} MiB/s echoed and verified");
        if (ConnectionsPerSecond is { } cps)
        {
            text.AppendLine(c, $"  connections  {cps:N0} connect+{(Tls is null ? string.Empty : "handshake+")}echo+close per second");
        }

        if (ConnectionsHeld is { } held)
        {
            text.AppendLine(c, $"  held         {held:N0} of {Connections:N0} connections open and verified");
        }

        if (ServerCores is { } cores)
        {
            text.AppendLine(c, $"  server       {cores:F2} cores, {ServerCpuUsPerMessage?.ToString("F1", c) ?? "-"} µs CPU per message, peak RSS {ServerPeakRssMiB:F1} MiB");
        }

        if (ClientCores is { } clientCores)
        {
            string allocated = ClientAllocatedBytesPerMessage is { } bytes ? string.Create(c, $"{bytes:N0} B allocated and ") : string.Empty;
            text.AppendLine(c, $"  client       {clientCores:F2} cores, {allocated}{ClientCpuUsPerMessage?.ToString("F1", c) ?? "-"} µs CPU per message (echo-load itself)");
        }

        if (Tls is { } tls)
        {
            text.AppendLine(c, $"  tls          {TlsLine(tls)}");
        }

        if (ClosedByServerRetried > 0)
        {
            text.AppendLine(c, $"  retried      {ClosedByServerRetried:N0} connections closed by the server between messages, each retried on a new one");
        }

        if (ConnectionsUnanswered > 0 || MessagesUnanswered > 0)
        {
            var parts = new List<string>();
            if (ConnectionsUnanswered > 0)
            {
                parts.Add(string.Create(c, $"{ConnectionsUnanswered:N0} of {Connections:N0} connections never got a reply"));
            }

            if (MessagesUnanswered > 0)
            {
                parts.Add(string.Create(c, $"{MessagesUnanswered:N0} {(MessagesUnanswered == 1 ? "message" : "messages")} still unanswered at the end, after --reply-timeout"));
            }

            text.AppendLine(c, $"  unanswered   {string.Join("; ", parts)}");
        }

        var l = LatencyUs;
        text.AppendLine(c, $"  latency µs   p50 {l.P50:F1}  p90 {l.P90:F1}  p99 {l.P99:F1}  p99.9 {l.P999:F1}  max {l.Max:F1}  mean {l.Mean:F1}");
        text.Append(c, $"  errors       {(Errors.Count == 0 ? "none" : string.Join(", ", Errors.Select(e => $"{e.Key} {e.Value}")))}");
        return text.ToString();
    }

    private static string TlsLine(TlsReport tls)
    {
        string negotiated = tls.Protocol is { } protocol ? $"{TlsReport.Display(protocol)}, {tls.CipherSuite}" : "no handshake succeeded";
        string check = tls.ServerCertificateCheck switch
        {
            "none" => "server certificate not checked (--insecure)",
            "ca-file" => "server certificate checked against --tls-ca",
            _ => "server certificate checked against the system's roots",
        };
        string client = tls.ClientCertificate is { } subject ? $"; client certificate {subject}" : string.Empty;
        string failure = tls.FirstFailure is { } reason ? $"; first handshake failure: {reason}" : string.Empty;
        return $"{negotiated}; {check}{client}{failure}";
    }
}
