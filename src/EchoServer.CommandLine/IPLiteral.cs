using System.Net;
using System.Net.Sockets;

namespace EchoServer.CommandLine;

/// <summary>An IP address as people write it: a dotted quad (<c>10.0.0.1</c>) or an IPv6 literal (<c>::1</c>, <c>[::1]</c>).</summary>
internal static class IPLiteral
{
    /// <summary>
    /// Parses <paramref name="text"/> strictly. IPAddress.TryParse also takes the legacy inet_aton forms, where
    /// <c>0x10</c> is 0.0.0.16, <c>127.1</c> is 127.0.0.1 and <c>010.0.0.1</c> is octal: a typo there names
    /// another host instead of failing.
    /// </summary>
    public static bool TryParse(string text, out IPAddress? address)
    {
        address = null;
        var span = text.AsSpan();
        if (span.Length > 2 && span[0] == '[' && span[^1] == ']')
        {
            span = span[1..^1];
        }

        if (span.Contains(':'))
        {
            return IPAddress.TryParse(span, out address) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        return IsDottedQuad(span) && IPAddress.TryParse(span, out address);
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        int parts = 0;
        foreach (var range in text.Split('.'))
        {
            var part = text[range];
            if (++parts > 4 || part.Length is 0 or > 3 || part.ContainsAnyExceptInRange('0', '9')
                || (part.Length > 1 && part[0] == '0') || int.Parse(part, System.Globalization.CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }
        }

        return parts == 4;
    }
}
