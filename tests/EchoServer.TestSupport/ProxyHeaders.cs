using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoServer.TestSupport;

/// <summary>PROXY protocol headers as a load balancer writes them, built byte by byte for tests.</summary>
internal static class ProxyHeaders
{
    public static byte[] V1(string line) => Encoding.ASCII.GetBytes(line);

    /// <summary>A v1 TCP4 or TCP6 line for a connection from <paramref name="client"/> to <paramref name="server"/>.</summary>
    public static byte[] V1(IPEndPoint client, IPEndPoint server) =>
        V1($"PROXY {(client.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6")} {client.Address} {server.Address} {client.Port} {server.Port}\r\n");

    /// <summary>A v2 header: the signature, the version-and-command and family-and-protocol bytes, the length, then <paramref name="body"/>.</summary>
    public static byte[] V2(byte versionAndCommand, byte familyAndProtocol, byte[] body) =>
    [
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
        versionAndCommand, familyAndProtocol, (byte)(body.Length >> 8), (byte)body.Length, .. body,
    ];

    /// <summary>A v2 PROXY header over TCP for a connection from <paramref name="client"/> to <paramref name="server"/>, then <paramref name="tlvs"/>.</summary>
    public static byte[] V2(IPEndPoint client, IPEndPoint server, params byte[] tlvs) =>
        V2(0x21, client.AddressFamily == AddressFamily.InterNetwork ? (byte)0x11 : (byte)0x21, [.. Addresses(client, server), .. tlvs]);

    /// <summary>A v2 LOCAL header, as a load balancer's own health check sends it.</summary>
    public static byte[] V2Local() => V2(0x20, 0x00, []);

    /// <summary>A v2 address block: source and destination addresses, then source and destination ports.</summary>
    public static byte[] Addresses(IPEndPoint client, IPEndPoint server) =>
    [
        .. client.Address.GetAddressBytes(), .. server.Address.GetAddressBytes(),
        (byte)(client.Port >> 8), (byte)client.Port, (byte)(server.Port >> 8), (byte)server.Port,
    ];

    public static byte[] Tlv(byte type, ReadOnlySpan<byte> value) => [type, (byte)(value.Length >> 8), (byte)value.Length, .. value];
}
