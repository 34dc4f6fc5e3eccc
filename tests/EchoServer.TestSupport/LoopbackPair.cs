using System.Net;
using System.Net.Sockets;

namespace EchoServer.TestSupport;

/// <summary>Two connected TCP sockets on 127.0.0.1: a client and the server's end of it.</summary>
internal static class LoopbackPair
{
    public static (Socket Client, Socket Server) Connect()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        return (client, listener.Accept());
    }
}
