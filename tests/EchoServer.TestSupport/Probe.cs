using System.Net;
using System.Net.Sockets;

namespace EchoServer.TestSupport;

/// <summary>Asks whether something listens at an endpoint, by connecting and closing at once.</summary>
internal static class Probe
{
    public static bool CanConnect(IPEndPoint endPoint)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
