using System.Net.Sockets;

namespace EchoServer.Listening;

/// <summary>The socket's own accept.</summary>
internal sealed class SocketAcceptor : ISocketAcceptor
{
    public ValueTask<Socket> AcceptAsync(Socket listening, CancellationToken cancellationToken) => listening.AcceptAsync(cancellationToken);
}
