using System.Buffers;
using System.Net.Sockets;
using EchoServer.Pools;

namespace EchoServer.Echo;

/// <summary>
/// The echo loop for the executor. While the client is quiet it holds no slot and no buffer: it waits with a
/// zero-byte receive. Once data is there it takes a slot through the gate (FIFO with every other session),
/// rents a buffer, echoes what is readable for at most <see cref="ReadsPerTurn"/> reads, then gives both back,
/// so one fast client cannot keep a slot while others wait.
/// <para>
/// Within a turn every read and the first try of every send is a non-blocking call (one system call each):
/// only the wait for data and a send the client is slow to take are asynchronous. A read that finds nothing
/// ends the turn, and so does a read that did not fill the buffer, since the socket was then read empty: the
/// zero-byte receive that follows looks for more data anyway.
/// </para>
/// </summary>
internal static class AsyncEchoLoop
{
    /// <summary>Reads echoed per slot turn before the slot goes back to the queue (Netty's default for a read loop).</summary>
    public const int ReadsPerTurn = 16;

    /// <summary>Echoes until the client closes, the connection fails, a slot is refused, or the owner asks it to stop; returns why it ended.</summary>
    /// <param name="socket">The client's socket.</param>
    /// <param name="progress">Where bytes and waits are reported.</param>
    /// <param name="gate">The executor's slots.</param>
    /// <param name="bufferSize">Bytes read at a time.</param>
    /// <param name="stopping">Cancelled when the owner stops the session; only the wait for a slot watches it (a stop closes or shuts the socket, which ends socket calls).</param>
    /// <param name="first">Data that came with a PROXY protocol header: the first message of the first turn.</param>
    public static async ValueTask<CloseReason> RunAsync(Socket socket, EchoProgress progress, ISlotGate gate, int bufferSize, CancellationToken stopping, byte[]? first = null)
    {
        try
        {
            socket.Blocking = false; // synchronous reads and sends return WouldBlock instead of waiting
            while (!progress.StopRequested)
            {
                if (first is null)
                {
                    progress.Set(SessionWait.Receive);

                    // Completes once a byte, the end of the stream or an error is there (the runtime peeks for one byte).
                    await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                    if (progress.StopRequested)
                    {
                        break;
                    }
                }

                progress.Set(SessionWait.Slot);
                if (await gate.EnterAsync(stopping) is { } refusal)
                {
                    return refusal;
                }

                progress.Set(SessionWait.Echo);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                try
                {
                    for (int reads = 0; reads < ReadsPerTurn; reads++)
                    {
                        // The data that came with the header is this turn's first read; every later one reads the socket.
                        byte[] message = first ?? buffer;
                        int received;
                        if (first is not null)
                        {
                            received = first.Length;
                            first = null;
                        }
                        else
                        {
                            received = socket.Receive(buffer, 0, bufferSize, SocketFlags.None, out var readError);
                            if (readError == SocketError.WouldBlock)
                            {
                                break; // nothing (more) to read: back to waiting, without the slot
                            }

                            if (readError != SocketError.Success)
                            {
                                return SocketErrors.ToCloseReason(readError);
                            }
                        }

                        if (received == 0)
                        {
                            if (progress.StopRequested)
                            {
                                return CloseReason.Shutdown;
                            }

                            SocketErrors.TryShutdownSend(socket);
                            return CloseReason.ClientClosed;
                        }

                        progress.AddBytesIn(received);

                        // The state stays Send until the next send: the reads of a turn find data waiting, so
                        // one timestamp per message is enough for the watchdog and the snapshot.
                        progress.Set(SessionWait.Send);
                        int sent = socket.Send(message, 0, received, SocketFlags.None, out var sendError);
                        if (sendError == SocketError.WouldBlock)
                        {
                            sent = 0;
                        }
                        else if (sendError != SocketError.Success)
                        {
                            return SocketErrors.ToCloseReason(sendError);
                        }

                        while (sent < received)
                        {
                            sent += await socket.SendAsync(message.AsMemory(sent, received - sent), SocketFlags.None);
                        }

                        progress.AddBytesOut(received);
                        if (received < bufferSize)
                        {
                            break; // a short read emptied the socket
                        }
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    gate.Exit();
                }
            }

            return CloseReason.Shutdown; // asked to stop: the owner's reason is the one reported
        }
        catch (SocketException ex)
        {
            return SocketErrors.ToCloseReason(ex.SocketErrorCode);
        }
        catch (ObjectDisposedException) when (progress.StopRequested)
        {
            return CloseReason.Shutdown;
        }
    }
}
