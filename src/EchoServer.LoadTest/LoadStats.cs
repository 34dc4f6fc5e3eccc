using System.Diagnostics;
using HdrHistogram;

namespace EchoServer.LoadTest;

/// <summary>Counters and the latency recorder every connection writes into, safe from any thread.</summary>
internal sealed class LoadStats
{
    /// <summary>Latencies are recorded in nanoseconds, from 1 ns to 60 s, at 3 significant digits.</summary>
    private const long HighestLatencyNs = 60L * 1_000_000_000;

    private readonly Recorder _recorder = HistogramFactory.With64BitBucketSize()
        .WithValuesFrom(1).WithValuesUpTo(HighestLatencyNs).WithPrecisionOf(3)
        .WithThreadSafeWrites().WithThreadSafeReads().Create();

    private long _serverCloses;
    private readonly long[] _errors = new long[Enum.GetValues<ErrorKind>().Length];
    private readonly LongHistogram _total = new(HighestLatencyNs, 3);
    private long _messages;
    private long _bytes;
    private long _connects;
    private long _answered;
    private long _held;
    private long _inFlightPeak;
    private long _replied;
    private long _overdue;
    private long _datagramsSent;
    private long _datagramsReceived;
    private long _datagramsLost;
    private long _datagramsDuplicated;
    private long _datagramsReordered;
    private long _datagramsLate;
    private volatile bool _stalled;
    private volatile bool _measuring;

    public bool Measuring => _measuring;

    public long Messages => Volatile.Read(ref _messages);

    /// <summary>Bytes echoed back and verified.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Connections that completed their work (connect mode: connect, echo, close).</summary>
    public long Connects => Volatile.Read(ref _connects);

    /// <summary>Connections that got at least one echo back (the others waited the whole run).</summary>
    public long AnsweredConnections => Volatile.Read(ref _answered);

    /// <summary>Hold mode: connections open and verified right now.</summary>
    public long Held => Volatile.Read(ref _held);

    /// <summary>The most messages one connection had sent and not yet seen echoed, while measuring (pipelined and open-loop runs).</summary>
    public long InFlightPeak => Volatile.Read(ref _inFlightPeak);

    /// <summary>Connections (of the <c>--connections</c>) that got at least one reply at any time in the run, warm-up included.</summary>
    public long RepliedConnections => Volatile.Read(ref _replied);

    /// <summary>Messages still unanswered when the run ended, after waiting longer than the reply timeout (or when the run gave up for lack of progress).</summary>
    public long OverdueMessages => Volatile.Read(ref _overdue);

    /// <summary>Whether the run ended because nothing came back for longer than the reply timeout.</summary>
    public bool Stalled => _stalled;

    /// <summary>Counts <paramref name="replied"/>'s connection the first time it gets a reply.</summary>
    public void RecordReply(ref bool replied)
    {
        if (!replied)
        {
            replied = true;
            Interlocked.Increment(ref _replied);
        }
    }

    public void RecordOverdue() => Interlocked.Increment(ref _overdue);

    public void RecordStalled() => _stalled = true;

    public void RecordHeld(int change) => Interlocked.Add(ref _held, change);

    public void RecordInFlight(long inFlight)
    {
        long peak;
        while (_measuring && inFlight > (peak = Volatile.Read(ref _inFlightPeak)))
        {
            if (Interlocked.CompareExchange(ref _inFlightPeak, inFlight, peak) == peak)
            {
                return;
            }
        }
    }

    public void RecordAnswered() => Interlocked.Increment(ref _answered);

    /// <summary>Counts <paramref name="answered"/>'s connection once, the first time one of its messages is counted.</summary>
    public void RecordMessage(long startTimestamp, long endTimestamp, int bytes, ref bool answered)
    {
        if (RecordMessage(startTimestamp, endTimestamp, bytes) && !answered)
        {
            answered = true;
            RecordAnswered();
        }
    }

    public long ErrorCount(ErrorKind kind) => Volatile.Read(ref _errors[(int)kind]);

    public long TotalErrors => _errors.Sum();

    /// <summary>UDP: datagrams sent while measuring (each one's replies are counted below, whenever they come).</summary>
    public long DatagramsSent => Volatile.Read(ref _datagramsSent);

    /// <summary>UDP: replies received to datagrams sent while measuring: first answers, duplicates and late ones.</summary>
    public long DatagramsReceived => Volatile.Read(ref _datagramsReceived);

    /// <summary>UDP: datagrams never answered within the reply timeout.</summary>
    public long DatagramsLost => Volatile.Read(ref _datagramsLost);

    /// <summary>UDP: replies to a datagram already answered.</summary>
    public long DatagramsDuplicated => Volatile.Read(ref _datagramsDuplicated);

    /// <summary>UDP: first answers that came after the answer to a later datagram of the same socket.</summary>
    public long DatagramsReordered => Volatile.Read(ref _datagramsReordered);

    /// <summary>UDP: replies that came after their datagram was counted lost.</summary>
    public long DatagramsLate => Volatile.Read(ref _datagramsLate);

    public void RecordDatagramSent() => Interlocked.Increment(ref _datagramsSent);

    public void RecordDatagramsLost(int count) => Interlocked.Add(ref _datagramsLost, count);

    /// <summary>Counts a reply to a datagram sent while measuring; a first answer is timed and counted as a message even after measuring ended, so that sent = answered + lost.</summary>
    public void RecordDatagramReply(ReplyKind kind, long sentAt, long now, int bytes, bool reordered, ref bool answered)
    {
        Interlocked.Increment(ref _datagramsReceived);
        switch (kind)
        {
            case ReplyKind.Duplicate:
                Interlocked.Increment(ref _datagramsDuplicated);
                return;
            case ReplyKind.Late:
                Interlocked.Increment(ref _datagramsLate);
                return;
        }

        if (reordered)
        {
            Interlocked.Increment(ref _datagramsReordered);
        }

        Record(sentAt, now, bytes);
        if (!answered)
        {
            answered = true;
            RecordAnswered();
        }
    }

    /// <summary>Starts counting: everything before (the warm-up) is thrown away.</summary>
    public void StartMeasuring()
    {
        _recorder.Reset();
        Interlocked.Exchange(ref _messages, 0);
        Interlocked.Exchange(ref _bytes, 0);
        Interlocked.Exchange(ref _connects, 0);
        Interlocked.Exchange(ref _answered, 0);
        Interlocked.Exchange(ref _inFlightPeak, 0);
        _total.Reset();
        _measuring = true;
    }

    public void StopMeasuring() => _measuring = false;

    /// <summary>Records one echoed message while measuring; returns whether it was counted.</summary>
    public bool RecordMessage(long startTimestamp, long endTimestamp, int bytes)
    {
        if (!_measuring)
        {
            return false;
        }

        Record(startTimestamp, endTimestamp, bytes);
        return true;
    }

    private void Record(long startTimestamp, long endTimestamp, int bytes)
    {
        long ns = (long)Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalNanoseconds;
        _recorder.RecordValue(Math.Clamp(ns, 1, HighestLatencyNs));
        Interlocked.Increment(ref _messages);
        Interlocked.Add(ref _bytes, bytes);
    }

    public void RecordConnect()
    {
        if (_measuring)
        {
            Interlocked.Increment(ref _connects);
        }
    }

    /// <summary>Connections the server closed cleanly between messages (no reply owed, or none of it begun), each retried on a new one.</summary>
    public long ServerCloses => Volatile.Read(ref _serverCloses);

    public void RecordServerClose() => Interlocked.Increment(ref _serverCloses);

    // Errors count during warm-up too: a wrong byte is wrong whenever it arrives.
    public void RecordError(ErrorKind kind) => Interlocked.Increment(ref _errors[(int)kind]);

    /// <summary>Latencies recorded since the last call (and adds them to the run's total).</summary>
    public HistogramBase TakeInterval()
    {
        var interval = _recorder.GetIntervalHistogram();
        lock (_total)
        {
            _total.Add(interval);
        }

        return interval;
    }

    /// <summary>Every latency recorded while measuring.</summary>
    public HistogramBase Total()
    {
        TakeInterval();
        lock (_total)
        {
            return _total.Copy();
        }
    }

    public IReadOnlyDictionary<string, long> Errors() =>
        Enum.GetValues<ErrorKind>().Where(k => ErrorCount(k) > 0).ToDictionary(k => ErrorNames.Of(k), ErrorCount);
}
