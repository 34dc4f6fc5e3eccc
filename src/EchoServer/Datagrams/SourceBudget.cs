namespace EchoServer.Datagrams;

/// <summary>
/// A budget of datagrams per second for each source address (a token bucket: up to one second's worth at
/// once, refilled continuously), so that no single address, spoofed or not, can make the server send more
/// than that at it. Used by the receive loop only (one thread): no lock. The table forgets addresses that
/// have been quiet for a second (their bucket is full again), and is cleared whole if a flood of distinct
/// sources fills it, which at worst gives each of them one fresh second's budget.
/// </summary>
internal sealed class SourceBudget(int perSecond, TimeProvider time, int maxAddresses = 65_536)
{
    private readonly Dictionary<UInt128, Bucket> _buckets = [];
    private readonly long _frequency = time.TimestampFrequency;
    private long _lastSweep = time.GetTimestamp();

    /// <summary>Addresses tracked now.</summary>
    public int Tracked => _buckets.Count;

    /// <summary>True when <paramref name="address"/> may have one more datagram echoed now (and spends it).</summary>
    public bool TrySpend(UInt128 address)
    {
        long now = time.GetTimestamp();
        if (now - _lastSweep > _frequency)
        {
            Sweep(now);
        }

        if (_buckets.TryGetValue(address, out var bucket))
        {
            double tokens = Math.Min(perSecond, bucket.Tokens + ((now - bucket.At) * (double)perSecond / _frequency));
            bool allowed = tokens >= 1;
            _buckets[address] = new Bucket(allowed ? tokens - 1 : tokens, now);
            return allowed;
        }

        if (_buckets.Count >= maxAddresses)
        {
            _buckets.Clear();
        }

        _buckets[address] = new Bucket(perSecond - 1, now);
        return true;
    }

    private void Sweep(long now)
    {
        _lastSweep = now;
        foreach (var (address, bucket) in _buckets)
        {
            if (now - bucket.At > _frequency)
            {
                _buckets.Remove(address);
            }
        }
    }

    private readonly record struct Bucket(double Tokens, long At);
}
