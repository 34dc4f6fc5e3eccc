using EchoServer.Diagnostics;

namespace EchoServer.Connections;

/// <summary>Bytes since start, both ways: what closed connections moved plus what open ones have moved so far.</summary>
internal sealed class ByteTotals(ConnectionRegistry connections, ServerCounters counters)
{
    private readonly long[] _reported = new long[2];

    /// <summary>
    /// Bytes since start. A connection that closes while this sums could be counted twice or not at all for a
    /// moment, so the result never goes back.
    /// </summary>
    public (long Received, long Sent) SoFar()
    {
        long received = counters.BytesIn;
        long sent = counters.BytesOut;
        foreach (var connection in connections.Snapshot())
        {
            received += connection.BytesIn;
            sent += connection.BytesOut;
        }

        lock (_reported)
        {
            _reported[0] = Math.Max(_reported[0], received);
            _reported[1] = Math.Max(_reported[1], sent);
            return (_reported[0], _reported[1]);
        }
    }
}
