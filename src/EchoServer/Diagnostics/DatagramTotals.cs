namespace EchoServer.Diagnostics;

/// <summary>The UDP echo's totals since start: datagrams and bytes in and out, and drops by reason (every reason, zeros included).</summary>
internal sealed record DatagramTotals(long Received, long Echoed, long BytesIn, long BytesOut, IReadOnlyList<(string Reason, long Count)> Dropped)
{
    /// <summary>Every drop, whatever its reason.</summary>
    public long DroppedTotal => Dropped.Sum(d => d.Count);
}
