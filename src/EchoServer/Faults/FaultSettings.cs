using System.Globalization;

namespace EchoServer.Faults;

/// <summary>
/// The faults the server injects on purpose (<c>--fault-*</c>), all off by default: how each echo is shaped on a
/// faulted connection, what happens to a faulted datagram, and which connections and datagrams are faulted.
/// </summary>
internal sealed record FaultSettings
{
    /// <summary>Everything off: no connection gets a stream, no datagram is touched.</summary>
    public static readonly FaultSettings None = new();

    /// <summary>Each echo (each piece, with <see cref="Chunk"/>) held back by this long. Defaults to zero.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>A random extra delay, uniform in [0, Jitter], added to each echo. Defaults to zero.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>Each echo sent in pieces of at most this many bytes, each a write of its own; 0 for whole. Defaults to 0.</summary>
    public int Chunk { get; init; }

    /// <summary>Bytes per second echoed on one connection at most; 0 for no limit. Defaults to 0.</summary>
    public long Bandwidth { get; init; }

    /// <summary>After this many bytes echoed, close with a FIN; 0 for never. Defaults to 0.</summary>
    public long CloseAfter { get; init; }

    /// <summary>After this many bytes echoed, reset the connection; 0 for never. Defaults to 0.</summary>
    public long ResetAfter { get; init; }

    /// <summary>After this many bytes, stop reading and echoing for <see cref="StallFor"/>; 0 for never. Defaults to 0.</summary>
    public long StallAfter { get; init; }

    /// <summary>How long the stall lasts. Defaults to zero.</summary>
    public TimeSpan StallFor { get; init; }

    /// <summary>UDP: the probability that a faulted datagram is dropped. Defaults to 0.</summary>
    public double Drop { get; init; }

    /// <summary>UDP: the probability that a faulted datagram is echoed twice. Defaults to 0.</summary>
    public double Duplicate { get; init; }

    /// <summary>The share of connections and datagrams the faults apply to, in [0, 1]. Defaults to 1.</summary>
    public double Rate { get; init; } = 1;

    /// <summary>The seed of every random choice, so that a run repeats; null for a different run each time. Defaults to null.</summary>
    public int? Seed { get; init; }

    /// <summary>True when a connection's bytes are shaped: a faulted connection echoes through a <see cref="FaultStream"/>.</summary>
    public bool ShapesStreams => Delay > TimeSpan.Zero || Jitter > TimeSpan.Zero || Chunk > 0 || Bandwidth > 0 || CloseAfter > 0 || ResetAfter > 0 || StallAfter > 0;

    /// <summary>True when datagrams are touched (dropped, duplicated or delayed).</summary>
    public bool ShapesDatagrams => Drop > 0 || Duplicate > 0 || Delay > TimeSpan.Zero || Jitter > TimeSpan.Zero;

    /// <summary>What a faulted connection's close line and metric say: the connection faults in force, joined by <c>+</c> (<c>delay+reset-after</c>).</summary>
    public string ConnectionFaults => string.Join('+', Names());

    /// <summary>The faults in force with their values, for the start line (<c>delay=200ms, rate=0.5, seed=7</c>); empty when none is.</summary>
    public string Describe()
    {
        if (!ShapesStreams && !ShapesDatagrams)
        {
            return string.Empty;
        }

        var parts = new List<string>();
        Add(Delay > TimeSpan.Zero, "delay", Time(Delay));
        Add(Jitter > TimeSpan.Zero, "jitter", Time(Jitter));
        Add(Chunk > 0, "chunk", Count(Chunk));
        Add(Bandwidth > 0, "bandwidth", Count(Bandwidth) + "/s");
        Add(CloseAfter > 0, "close-after", Count(CloseAfter));
        Add(ResetAfter > 0, "reset-after", Count(ResetAfter));
        Add(StallAfter > 0, "stall-after", Count(StallAfter));
        Add(StallAfter > 0, "stall-for", Time(StallFor));
        Add(Drop > 0, "drop", Share(Drop));
        Add(Duplicate > 0, "duplicate", Share(Duplicate));
        Add(true, "rate", Share(Rate));
        Add(Seed is not null, "seed", Seed?.ToString(CultureInfo.InvariantCulture) ?? string.Empty);
        return string.Join(", ", parts);

        void Add(bool on, string name, string value)
        {
            if (on)
            {
                parts.Add($"{name}={value}");
            }
        }
    }

    private IEnumerable<string> Names()
    {
        if (Delay > TimeSpan.Zero)
        {
            yield return "delay";
        }

        if (Jitter > TimeSpan.Zero)
        {
            yield return "jitter";
        }

        if (Chunk > 0)
        {
            yield return "chunk";
        }

        if (Bandwidth > 0)
        {
            yield return "bandwidth";
        }

        if (CloseAfter > 0)
        {
            yield return "close-after";
        }

        if (ResetAfter > 0)
        {
            yield return "reset-after";
        }

        if (StallAfter > 0)
        {
            yield return "stall";
        }
    }

    private static string Time(TimeSpan value) => value.TotalMilliseconds < 1000
        ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.###}ms")
        : string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###}s");

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Share(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
