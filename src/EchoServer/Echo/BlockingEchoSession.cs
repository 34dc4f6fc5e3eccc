using System.Net.Sockets;

namespace EchoServer.Echo;

/// <summary>
/// The echo loop for dedicated worker threads: synchronous receive and send on a blocking socket, through
/// the worker's own buffer. The socket never sees an asynchronous call, so the runtime keeps it blocking.
/// </summary>
internal static class BlockingEchoSession
{
    /// <summary>Echoes until the client closes or the connection fails; returns why it ended.</summary>
    public static CloseReason Run(ClientConnection connection, byte[] buffer)
    {
        var socket = connection.Socket;
        try
        {
            while (true)
            {
                connection.WaitingToReceive();
                int received = socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out var error);
                if (error != SocketError.Success)
                {
                    return SocketErrors.ToCloseReason(error, connection);
                }

                if (received == 0)
                {
                    // Everything received has been sent back already: finish our side and end.
                    SocketErrors.TryShutdownSend(socket);
                    return CloseReason.ClientClosed;
                }

                connection.AddBytesIn(received);
                connection.WaitingToSend();
                int sent = 0;
                while (sent < received)
                {
                    int n = socket.Send(buffer, sent, received - sent, SocketFlags.None, out error);
                    if (error != SocketError.Success)
                    {
                        return SocketErrors.ToCloseReason(error, connection);
                    }

                    sent += n;
                }

                connection.AddBytesOut(received);
            }
        }
        catch (ObjectDisposedException) when (connection.AbortReason is { } reason)
        {
            return reason;
        }
    }
}
