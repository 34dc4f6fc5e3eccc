using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using EchoServer.Pools;

namespace EchoServer.Echo;

/// <summary>
/// The echo loops for a session whose bytes go through a stream instead of the bare socket (a TLS session, a
/// fault plan): the same two models as <see cref="BlockingEchoLoop"/> and <see cref="AsyncEchoLoop"/>, through
/// <see cref="Stream"/> calls. A plaintext session without faults never comes here: the socket loops are faster.
/// <para>
/// The executor's loop keeps its promise through the stream: while the client is quiet it waits with a
/// zero-byte read (<see cref="SslStream"/> and <see cref="NetworkStream"/> both wait for data without a
/// buffer), holding no slot and no buffer. A read or write the stream cannot finish at once (a TLS record only
/// half arrived, a client slow to take our bytes, a fault's delay) gives the slot back while it waits, holding
/// only the turn's buffer.
/// </para>
/// </summary>
internal static class StreamEchoLoop
{
    /// <summary>Echoes on the calling worker thread, blocking, until the client closes, the connection fails or the owner asks it to stop.</summary>
    /// <param name="stream">The session's stream.</param>
    /// <param name="socket">The client's socket under it: our FIN goes there.</param>
    /// <param name="progress">Where bytes and waits are reported.</param>
    /// <param name="bufferSize">Bytes read at a time.</param>
    /// <param name="first">Data that came before the session (with a PROXY protocol header), echoed first.</param>
    public static CloseReason Run(Stream stream, Socket socket, EchoProgress progress, int bufferSize, byte[]? first = null)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            if (first is { Length: > 0 })
            {
                progress.AddBytesIn(first.Length);
                progress.Set(SessionWait.Send);
                stream.Write(first);
                progress.AddBytesOut(first.Length);
            }

            while (!progress.StopRequested)
            {
                progress.Set(SessionWait.Receive);
                int received = stream.Read(buffer, 0, bufferSize);
                if (received == 0)
                {
                    if (progress.StopRequested)
                    {
                        break;
                    }

                    // A dedicated worker thread, not the thread pool: waiting here for TLS's close_notify is its job.
                    ShutdownSendAsync(stream, socket).AsTask().GetAwaiter().GetResult();
                    return CloseReason.ClientClosed;
                }

                progress.AddBytesIn(received);
                progress.Set(SessionWait.Send);
                stream.Write(buffer, 0, received);
                progress.AddBytesOut(received);
            }

            return CloseReason.Shutdown;
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            return ToCloseReason(ex, progress);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Echoes asynchronously for the executor, a slot per burst through <paramref name="gate"/>, until the client closes, the connection fails, a slot is refused or the owner asks it to stop.</summary>
    /// <param name="stream">The session's stream.</param>
    /// <param name="socket">The client's socket under it: our FIN goes there.</param>
    /// <param name="progress">Where bytes and waits are reported.</param>
    /// <param name="gate">The executor's slots.</param>
    /// <param name="bufferSize">Bytes read at a time.</param>
    /// <param name="stopping">Cancelled when the owner stops the session; the wait for a slot watches it.</param>
    /// <param name="first">Data that came before the session (with a PROXY protocol header): the first message of the first turn.</param>
    public static async ValueTask<CloseReason> RunAsync(Stream stream, Socket socket, EchoProgress progress, ISlotGate gate, int bufferSize, CancellationToken stopping, byte[]? first = null)
    {
        try
        {
            ValueTask<int> dataWait = default; // a zero-byte read a turn started and found pending; awaited by the next wait
            bool dataWaitPending = false;
            while (!progress.StopRequested)
            {
                if (first is null)
                {
                    progress.Set(SessionWait.Receive);
                    await (dataWaitPending ? dataWait : stream.ReadAsync(Memory<byte>.Empty, CancellationToken.None));
                    dataWaitPending = false;
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
                bool holding = true;
                byte[] buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                try
                {
                    for (int reads = 0; reads < AsyncEchoLoop.ReadsPerTurn; reads++)
                    {
                        if (reads > 0)
                        {
                            // More data already there? Otherwise end the turn; the next wait takes over this read.
                            var more = stream.ReadAsync(Memory<byte>.Empty, CancellationToken.None);
                            if (!more.IsCompleted)
                            {
                                dataWait = more;
                                dataWaitPending = true;
                                break;
                            }

                            await more;
                        }

                        byte[] message = first ?? buffer;
                        int received;
                        if (first is not null)
                        {
                            received = first.Length;
                            first = null;
                        }
                        else
                        {
                            var read = stream.ReadAsync(buffer.AsMemory(0, bufferSize), CancellationToken.None);
                            if (!read.IsCompleted)
                            {
                                // Half a record, or a fault holding the data back: wait without the slot.
                                gate.Exit();
                                holding = false;
                                progress.Set(SessionWait.Receive);
                                received = await read;
                                if (received > 0)
                                {
                                    progress.Set(SessionWait.Slot);
                                    if (await gate.EnterAsync(stopping) is { } refused)
                                    {
                                        return refused;
                                    }

                                    holding = true;
                                    progress.Set(SessionWait.Echo);
                                }
                            }
                            else
                            {
                                received = read.Result;
                            }
                        }

                        if (received == 0)
                        {
                            if (progress.StopRequested)
                            {
                                return CloseReason.Shutdown;
                            }

                            await ShutdownSendAsync(stream, socket);
                            return CloseReason.ClientClosed;
                        }

                        progress.AddBytesIn(received);
                        var write = stream.WriteAsync(message.AsMemory(0, received), CancellationToken.None);
                        if (!write.IsCompleted)
                        {
                            // The client is slow to take our bytes (or a fault delays them): wait without the slot.
                            gate.Exit();
                            holding = false;
                            progress.Set(SessionWait.Send);
                            await write;
                            progress.AddBytesOut(received);
                            break;
                        }

                        write.GetAwaiter().GetResult();
                        progress.AddBytesOut(received);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    if (holding)
                    {
                        gate.Exit();
                    }
                }
            }

            return CloseReason.Shutdown;
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            return ToCloseReason(ex, progress);
        }
    }

    /// <summary>Ends our side after the client ended its own: TLS's close_notify first when the stream speaks TLS, then a FIN.</summary>
    private static async ValueTask ShutdownSendAsync(Stream stream, Socket socket)
    {
        if (stream is ISendShutdown shutdown)
        {
            await shutdown.ShutdownSendAsync();
        }
        else if (stream is SslStream tls)
        {
            await tls.ShutdownAsync();
        }

        SocketErrors.TryShutdownSend(socket);
    }

    private static bool IsConnectionFailure(Exception ex) => ex is IOException or SocketException or ObjectDisposedException;

    private static CloseReason ToCloseReason(Exception ex, EchoProgress progress) => ex switch
    {
        _ when progress.StopRequested => CloseReason.Shutdown,
        SocketException socketError => SocketErrors.ToCloseReason(socketError.SocketErrorCode),
        IOException { InnerException: SocketException socketError } => SocketErrors.ToCloseReason(socketError.SocketErrorCode),
        _ => CloseReason.Error,
    };
}
