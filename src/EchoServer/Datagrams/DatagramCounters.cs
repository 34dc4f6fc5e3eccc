using EchoServer.Diagnostics;

namespace EchoServer.Datagrams;

/// <summary>Datagrams and bytes in and out, and drops by reason, since start (thread-safe, cheap to read).</summary>
internal sealed class DatagramCounters
{
    private readonly long[] _dropped = new long[DropReasonNames.Count];
    private long _received;
    private long _echoed;
    private long _bytesIn;
    private long _bytesOut;

    public long Received => Volatile.Read(ref _received);

    public long Echoed => Volatile.Read(ref _echoed);

    public long BytesIn => Volatile.Read(ref _bytesIn);

    public long BytesOut => Volatile.Read(ref _bytesOut);

    public long Dropped(DropReason reason) => Volatile.Read(ref _dropped[(int)reason]);

    /// <summary>Every drop, whatever its reason.</summary>
    public long DroppedTotal
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _dropped.Length; i++)
            {
                total += Volatile.Read(ref _dropped[i]);
            }

            return total;
        }
    }

    /// <summary>The totals now, for the metrics, the stats line and the snapshot.</summary>
    public DatagramTotals Totals() =>
        new(Received, Echoed, BytesIn, BytesOut, [.. Enum.GetValues<DropReason>().Select(r => (r.ToName(), Dropped(r)))]);

    public void CountReceived(int bytes)
    {
        Interlocked.Increment(ref _received);
        Interlocked.Add(ref _bytesIn, bytes);
    }

    public void CountEchoed(int bytes)
    {
        Interlocked.Increment(ref _echoed);
        Interlocked.Add(ref _bytesOut, bytes);
    }

    public void CountDropped(DropReason reason) => Interlocked.Increment(ref _dropped[(int)reason]);
}
