using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoServer.LoadTest;

/// <summary>
/// The PROXY protocol header (v1 text or v2 binary, TCP over IPv4 or IPv6) echo-load sends first on every TCP
/// connection with <c>--proxy-protocol</c>, as a load balancer in front of the server would.
/// </summary>
internal static class ProxyHeader
{
    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>
    /// The header for a connection from <paramref name="source"/> to <paramref name="destination"/>. Both ends are
    /// named in one family: when they differ, the IPv4 one is sent IPv4-mapped, as HAProxy does.
    /// </summary>
    public static byte[] Build(int version, IPEndPoint source, IPEndPoint destination)
    {
        var (from, to) = (Unscoped(source.Address), Unscoped(destination.Address));
        if (from.AddressFamily != to.AddressFamily)
        {
            (from, to) = (from.MapToIPv6(), to.MapToIPv6());
        }

        bool v4 = from.AddressFamily == AddressFamily.InterNetwork;
        if (version == 1)
        {
            return Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"PROXY {(v4 ? "TCP4" : "TCP6")} {from} {to} {source.Port} {destination.Port}\r\n"));
        }

        int addressLength = v4 ? 4 : 16;
        int blockLength = (2 * addressLength) + 4;
        var header = new byte[V2Signature.Length + 4 + blockLength];
        V2Signature.CopyTo(header);
        header[12] = 0x21; // version 2, PROXY
        header[13] = v4 ? (byte)0x11 : (byte)0x21; // TCP over IPv4 or IPv6
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)blockLength);
        var block = header.AsSpan(16);
        from.TryWriteBytes(block, out _);
        to.TryWriteBytes(block[addressLength..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(block[(2 * addressLength)..], (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(block[((2 * addressLength) + 2)..], (ushort)destination.Port);
        return header;
    }

    // A header has no room for an IPv6 scope (fe80::1%eth0).
    private static IPAddress Unscoped(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;
}
