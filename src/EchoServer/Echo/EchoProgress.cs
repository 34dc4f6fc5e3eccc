using System.Diagnostics;

namespace EchoServer.Echo;

/// <summary>
/// What an echo loop reports while it runs: bytes each way, what it waits for and since when (read by the
/// watchdog and snapshots), and whether its owner asked it to stop (so that the loop can tell a stop it was
/// asked for from a client that left).
/// </summary>
internal sealed class EchoProgress
{
    private long _bytesIn;
    private long _bytesOut;
    private long _undelivered;
    private long _waitingSince;
    private int _waitingFor;
    private volatile bool _stopRequested;

    public long BytesIn => Volatile.Read(ref _bytesIn);

    /// <summary>Bytes echoed that the client can receive: sent, less what a reset threw away.</summary>
    public long BytesOut => Volatile.Read(ref _bytesOut) - Volatile.Read(ref _undelivered);

    /// <summary>True once the owner asked the loop to stop; a loop that sees its receive end then returns.</summary>
    public bool StopRequested => _stopRequested;

    /// <summary>What the session waits for now, and since when (a Stopwatch timestamp).</summary>
    public (SessionWait Kind, long Since) Waiting
    {
        get
        {
            // Kind is written last and read first, so a fresh kind always comes with its own timestamp.
            var kind = (SessionWait)Volatile.Read(ref _waitingFor);
            return (kind, Volatile.Read(ref _waitingSince));
        }
    }

    public void RequestStop() => _stopRequested = true;

    public void Set(SessionWait kind)
    {
        Volatile.Write(ref _waitingSince, Stopwatch.GetTimestamp());
        Volatile.Write(ref _waitingFor, (int)kind);
    }

    // Each counter has one writer (the loop); readers elsewhere only need a recent value.
    public void AddBytesIn(int count) => Volatile.Write(ref _bytesIn, _bytesIn + count);

    public void AddBytesOut(int count) => Volatile.Write(ref _bytesOut, _bytesOut + count);

    /// <summary>Takes back bytes counted as sent that a reset will never deliver.</summary>
    public void Undeliver(int count) => Volatile.Write(ref _undelivered, count);
}
