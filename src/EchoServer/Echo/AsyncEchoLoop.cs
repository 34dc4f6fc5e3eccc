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
/// Within a turn every read and every send is a non-blocking call (one system call each), so a turn never
/// waits: only the wait for data and the wait for a client slow to take our bytes are asynchronous. A read
/// that finds nothing ends the turn, and so does a read that did not fill the buffer, since the socket was
/// then read empty: the zero-byte receive that follows looks for more data anyway.
/// </para>
/// <para>
/// A send that the client does not take at once ends the turn too: the bytes left are copied into a buffer the
/// session rents for them, the turn's buffer and the slot go back, and the session waits for the send without
/// either (<see cref="SessionWait.Send"/>, under the send timeout). It reads nothing meanwhile, so a client
/// that never reads costs at most one buffer and no slot; once its send completes it waits for data again.
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
                byte[]? unsent = null;
                int unsentCount = 0;
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
                        int sent = socket.Send(message, 0, received, SocketFlags.None, out var sendError);
                        if (sendError == SocketError.WouldBlock)
                        {
                            sent = 0;
                        }
                        else if (sendError != SocketError.Success)
                        {
                            return SocketErrors.ToCloseReason(sendError);
                        }

                        // Counted as the kernel takes them, so that a reset can take back exactly what it throws away.
                        progress.AddBytesOut(sent);
                        if (sent < received)
                        {
                            // The client is slow to take our bytes: keep only those, and end the turn.
                            unsentCount = received - sent;
                            unsent = ArrayPool<byte>.Shared.Rent(unsentCount);
                            Buffer.BlockCopy(message, sent, unsent, 0, unsentCount);
                            break;
                        }

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

                if (unsent is not null)
                {
                    await SendUnsentAsync(socket, progress, unsent, unsentCount);
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

    /// <summary>Waits, holding no slot, until the client has taken the bytes a turn could not send; then returns their buffer.</summary>
    private static async ValueTask SendUnsentAsync(Socket socket, EchoProgress progress, byte[] unsent, int count)
    {
        progress.Set(SessionWait.Send); // from here the watchdog holds the send timeout
        try
        {
            for (int sent = 0; sent < count;)
            {
                int taken = await socket.SendAsync(unsent.AsMemory(sent, count - sent), SocketFlags.None);
                progress.AddBytesOut(taken);
                sent += taken;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(unsent); // the send has ended, with or without an error: nothing uses it now
        }
    }
}
