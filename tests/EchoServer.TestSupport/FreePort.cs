using System.Net;
using System.Net.Sockets;

namespace EchoServer.TestSupport;

/// <summary>A loopback port for an external tool (HAProxy, nginx) that cannot be told to bind port 0 and report it.</summary>
internal static class FreePort
{
    /// <summary>A port free when asked; the tool binds it a moment later (nothing else on this machine races for it).</summary>
    public static int Pick()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
