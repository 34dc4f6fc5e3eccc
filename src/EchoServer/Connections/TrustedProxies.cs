using System.Net;

namespace EchoServer.Connections;

/// <summary>
/// The sources allowed to send a PROXY protocol header, as CIDR ranges. A peer seen as an IPv4-mapped IPv6
/// address (a dual-stack listener) matches the IPv4 ranges.
/// </summary>
internal sealed class TrustedProxies : IEquatable<TrustedProxies>
{
    private readonly IPNetwork[] _ranges;

    public TrustedProxies(IEnumerable<IPNetwork> ranges) => _ranges = [.. ranges];

    /// <summary>The default: loopback only (127.0.0.0/8 and ::1), for a proxy on the same machine.</summary>
    public static TrustedProxies Loopback { get; } = new([new IPNetwork(IPAddress.Parse("127.0.0.0"), 8), new IPNetwork(IPAddress.IPv6Loopback, 128)]);

    public IReadOnlyList<IPNetwork> Ranges => _ranges;

    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var range in _ranges)
        {
            if (range.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses a comma-separated list of CIDR ranges; a bare address is a range of one.</summary>
    public static bool TryParse(string text, out TrustedProxies? proxies, out string? error)
    {
        var ranges = new List<IPNetwork>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(part, out var range))
            {
                ranges.Add(range);
            }
            else if (!part.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(part, out var address))
            {
                ranges.Add(new IPNetwork(address, address.GetAddressBytes().Length * 8));
            }
            else
            {
                proxies = null;
                error = part.Length == 0 ? "an empty entry" : $"'{part}' is not a CIDR range";
                return false;
            }
        }

        proxies = new TrustedProxies(ranges);
        error = null;
        return true;
    }

    public bool Equals(TrustedProxies? other) => other is not null && _ranges.AsSpan().SequenceEqual(other._ranges);

    public override bool Equals(object? obj) => Equals(obj as TrustedProxies);

    public override int GetHashCode() => _ranges.Length == 0 ? 0 : _ranges[0].GetHashCode();

    public override string ToString() => string.Join(',', _ranges);
}
