using System.CommandLine;
using System.CommandLine.Parsing;
using EchoServer.CommandLine;
using EchoServer.Faults;

namespace EchoServer.Cli;

/// <summary>The fault options (<c>--fault-*</c>): misbehaving on purpose, all off by default.</summary>
internal sealed partial class ServerCommand
{
    private const long LargestCount = 1L << 40;

    public Option<Duration> FaultDelay { get; } = OptionFactory.Duration("--fault-delay", "Fault: hold each echo (each datagram with --udp) back by this long before sending it, e.g. 200ms. The executor waits on a timer holding no slot; a worker sleeps holding its client's thread. 0 = off.", TimeSpan.Zero);

    public Option<Duration> FaultJitter { get; } = OptionFactory.Duration("--fault-jitter", "Fault: add a random extra delay, uniform in 0 to this, to each echo (each datagram with --udp). 0 = off.", TimeSpan.Zero);

    public Option<ByteSize> FaultChunk { get; } = SizeOption("--fault-chunk", "Fault: send each echo in pieces of at most this many bytes, each a write of its own (with --fault-delay, each piece waits it). 0 = off.", 16L << 20, "64 or 1KiB");

    public Option<ByteSize> FaultBandwidth { get; } = SizeOption("--fault-bandwidth", "Fault: bytes per second echoed on one connection at most, e.g. 64KiB or 1MiB; the rest waits in the client's send window. 0 = off.", 1L << 30, "64KiB or 1MiB");

    public Option<ByteSize> FaultCloseAfter { get; } = SizeOption("--fault-close-after", "Fault: after this many bytes echoed, close with a FIN (every byte up to it delivered). 0 = off.", LargestCount, "1000 or 64KiB");

    public Option<ByteSize> FaultResetAfter { get; } = SizeOption("--fault-reset-after", "Fault: after this many bytes echoed (and acknowledged), reset the connection. 0 = off.", LargestCount, "1000 or 64KiB");

    public Option<ByteSize> FaultStallAfter { get; } = SizeOption("--fault-stall-after", "Fault: after this many bytes echoed, stop reading and echoing for --fault-stall-for (the client's send window fills). 0 = off.", LargestCount, "1000 or 64KiB");

    public Option<Duration> FaultStallFor { get; } = OptionFactory.Duration("--fault-stall-for", "Fault: how long the stall after --fault-stall-after lasts, e.g. 5s.", TimeSpan.Zero);

    public Option<double> FaultDrop { get; } = OptionFactory.Probability("--fault-drop", "Fault, with --udp: drop a datagram with this probability (0 to 1). 0 = off.", 0);

    public Option<double> FaultDuplicate { get; } = OptionFactory.Probability("--fault-duplicate", "Fault, with --udp: echo a datagram twice with this probability (0 to 1). 0 = off.", 0);

    public Option<double> FaultRate { get; } = OptionFactory.Probability("--fault-rate", "The share of connections (and datagrams) the faults apply to, from 0 to 1; the others are echoed as usual.", FaultSettings.None.Rate);

    public Option<int?> FaultSeed { get; } = OptionFactory.RangedOptional(new("--fault-seed") { Description = "Seed of the faults' random choices: the same seed and the same order of arrival give the same choices. A new one each run unless given." }, 0, int.MaxValue);

    private IEnumerable<Option> FaultOptions =>
        [FaultDelay, FaultJitter, FaultChunk, FaultBandwidth, FaultCloseAfter, FaultResetAfter, FaultStallAfter, FaultStallFor, FaultDrop, FaultDuplicate, FaultRate, FaultSeed];

    private FaultSettings BindFaults(ParseResult result) => new()
    {
        Delay = result.GetValue(FaultDelay).Value,
        Jitter = result.GetValue(FaultJitter).Value,
        Chunk = (int)result.GetValue(FaultChunk).Bytes,
        Bandwidth = result.GetValue(FaultBandwidth).Bytes,
        CloseAfter = result.GetValue(FaultCloseAfter).Bytes,
        ResetAfter = result.GetValue(FaultResetAfter).Bytes,
        StallAfter = result.GetValue(FaultStallAfter).Bytes,
        StallFor = result.GetValue(FaultStallFor).Value,
        Drop = result.GetValue(FaultDrop),
        Duplicate = result.GetValue(FaultDuplicate),
        Rate = result.GetValue(FaultRate),
        Seed = result.GetValue(FaultSeed),
    };

    /// <summary>The fault options that only make sense together, or with --udp.</summary>
    private void ValidateFaults(CommandResult r)
    {
        bool Given(Option option) => r.GetResult(option) is { Implicit: false };
        if (Given(FaultCloseAfter) && Given(FaultResetAfter))
        {
            r.AddError("--fault-close-after and --fault-reset-after end a connection two ways: give one of them.");
        }

        if (Given(FaultStallAfter) != Given(FaultStallFor))
        {
            r.AddError("--fault-stall-after and --fault-stall-for go together: after how many bytes, and for how long.");
        }

        if ((Given(FaultDrop) || Given(FaultDuplicate)) && !Given(Udp))
        {
            r.AddError("--fault-drop and --fault-duplicate act on datagrams: they need --udp.");
        }
    }

    private static Option<ByteSize> SizeOption(string name, string description, long max, string examples) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => new ByteSize(0),
        CustomParser = r => OptionFactory.ParseSize(r, 0, max, examples),
    };
}
