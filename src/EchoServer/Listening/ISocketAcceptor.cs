using System.Net.Sockets;

namespace EchoServer.Listening;

/// <summary>How the listener takes the next client from its listening socket: the transport, which the host provides.</summary>
internal interface ISocketAcceptor
{
    /// <summary>Accepts the next client of <paramref name="listening"/>.</summary>
    ValueTask<Socket> AcceptAsync(Socket listening, CancellationToken cancellationToken);
}
