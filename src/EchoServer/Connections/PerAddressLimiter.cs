using System.Net;

namespace EchoServer.Connections;

/// <summary>Counts open connections per client address, so that one address cannot take the whole pool.</summary>
internal sealed class PerAddressLimiter(int limit)
{
    private readonly Dictionary<IPAddress, int> _open = [];
    private readonly Lock _lock = new();

    /// <summary>Zero means no limit.</summary>
    public int Limit { get; } = limit;

    /// <summary>Counts one more connection from <paramref name="address"/>; false (and nothing counted) when it already holds the limit.</summary>
    public bool TryAcquire(IPAddress address)
    {
        lock (_lock)
        {
            _open.TryGetValue(address, out int count);
            if (count >= Limit)
            {
                return false;
            }

            _open[address] = count + 1;
            return true;
        }
    }

    public void Release(IPAddress address)
    {
        lock (_lock)
        {
            if (_open.TryGetValue(address, out int count))
            {
                if (count <= 1)
                {
                    _open.Remove(address);
                }
                else
                {
                    _open[address] = count - 1;
                }
            }
        }
    }
}
