using System.Net.Sockets;

namespace EchoServer.Echo;

/// <summary>
/// The echo loop for dedicated worker threads: synchronous receive and send on a blocking socket, through the
/// worker's own buffer. The socket never sees an asynchronous call, so the runtime keeps it blocking.
/// </summary>
internal static class BlockingEchoLoop
{
    [ThreadStatic]
    private static byte[]? t_buffer;

    /// <summary>
    /// Echoes until the client closes, the connection fails, or the owner asks it to stop (by shutting the
    /// receive side, which wakes a blocked receive); returns why it ended. Reads at most
    /// <paramref name="bufferSize"/> bytes at a time, through a buffer the calling thread keeps for life.
    /// <paramref name="first"/> (data that came with a PROXY protocol header) is echoed before anything is read.
    /// </summary>
    public static CloseReason Run(Socket socket, EchoProgress progress, int bufferSize, byte[]? first = null)
    {
        byte[] buffer = t_buffer is { } kept && kept.Length >= bufferSize ? kept : (t_buffer = GC.AllocateUninitializedArray<byte>(bufferSize));
        try
        {
            if (first is { Length: > 0 })
            {
                progress.AddBytesIn(first.Length);
                progress.Set(SessionWait.Send);
                var sendError = SendAll(socket, first);
                if (sendError != SocketError.Success)
                {
                    return SocketErrors.ToCloseReason(sendError);
                }

                progress.AddBytesOut(first.Length);
            }

            while (!progress.StopRequested)
            {
                progress.Set(SessionWait.Receive);
                int received = socket.Receive(buffer, 0, bufferSize, SocketFlags.None, out var error);
                if (error != SocketError.Success)
                {
                    return SocketErrors.ToCloseReason(error);
                }

                if (received == 0)
                {
                    if (progress.StopRequested)
                    {
                        break;
                    }

                    // Everything received has been sent back already: finish our side and end.
                    SocketErrors.TryShutdownSend(socket);
                    return CloseReason.ClientClosed;
                }

                progress.AddBytesIn(received);
                progress.Set(SessionWait.Send);
                error = SendAll(socket, buffer.AsSpan(0, received));
                if (error != SocketError.Success)
                {
                    return SocketErrors.ToCloseReason(error);
                }

                progress.AddBytesOut(received);
            }

            return CloseReason.Shutdown; // asked to stop: the owner's reason is the one reported
        }
        catch (ObjectDisposedException) when (progress.StopRequested)
        {
            return CloseReason.Shutdown;
        }
    }

    private static SocketError SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int sent = socket.Send(data, SocketFlags.None, out var error);
            if (error != SocketError.Success)
            {
                return error;
            }

            data = data[sent..];
        }

        return SocketError.Success;
    }
}
