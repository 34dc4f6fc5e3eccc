using System.Buffers;
using System.Net.Sockets;

namespace EchoServer.Echo;

/// <summary>
/// The echo loop for the executor: asynchronous, and holding no buffer while the client is quiet. It waits
/// with a zero-byte receive and rents a buffer only once data is there, returning it before waiting again.
/// </summary>
internal static class AsyncEchoSession
{
    /// <summary>Echoes until the client closes, the connection fails or it is aborted; returns why it ended.</summary>
    public static async ValueTask<CloseReason> RunAsync(ClientConnection connection, int bufferSize)
    {
        var socket = connection.Socket;
        var cancellationToken = connection.Aborted;
        try
        {
            while (true)
            {
                connection.WaitingToReceive();
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                try
                {
                    // Drain what is readable now before giving the buffer back.
                    do
                    {
                        int received = await socket.ReceiveAsync(buffer.AsMemory(0, bufferSize), SocketFlags.None, cancellationToken);
                        if (received == 0)
                        {
                            SocketErrors.TryShutdownSend(socket);
                            return CloseReason.ClientClosed;
                        }

                        connection.AddBytesIn(received);
                        connection.WaitingToSend();
                        int sent = 0;
                        while (sent < received)
                        {
                            sent += await socket.SendAsync(buffer.AsMemory(sent, received - sent), SocketFlags.None, cancellationToken);
                        }

                        connection.AddBytesOut(received);
                    }
                    while (socket.Available > 0);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (SocketException ex)
        {
            return SocketErrors.ToCloseReason(ex.SocketErrorCode, connection);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && connection.AbortReason is not null)
        {
            return connection.AbortReason!.Value;
        }
    }
}
