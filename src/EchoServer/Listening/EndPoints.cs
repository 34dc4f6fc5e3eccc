using System.Net;
using System.Net.Sockets;

namespace EchoServer.Listening;

/// <summary>How endpoints are written in logs: IPv6 addresses in brackets, so that the port stays readable.</summary>
internal static class EndPoints
{
    public static string Format(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : endPoint.ToString();
}
