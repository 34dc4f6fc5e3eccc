using System.Net.Sockets;
using EchoServer.Echo;
using EchoServer.Pools;

namespace EchoServer.IoUring;

/// <summary>
/// The executor's echo loop on a ring: the same turns as the sockets engine's loop, with the ring's requests in
/// place of the runtime's socket calls. While the client is quiet it holds no slot and no buffer (a multishot
/// receive is armed; the kernel picks a provided buffer only when data comes). Once data is there it takes a slot
/// through the gate, echoes at most <see cref="AsyncEchoLoop.ReadsPerTurn"/> filled buffers, each sent from the
/// buffer it arrived in with a send that never waits (MSG_DONTWAIT), gives each buffer back as soon as it is sent,
/// then the slot. A send the client does not take at once ends the turn: the bytes left are copied, the slot and
/// the buffer go back, and the session waits for that send (<see cref="SessionWait.Send"/>) without reading.
/// Everything but the wait for a queued slot runs on the ring's thread.
/// </summary>
internal static class RingEchoLoop
{
    /// <summary>Echoes until the client closes, the connection fails, a slot is refused, or the owner asks it to stop; returns why it ended.</summary>
    /// <param name="loop">The ring the session runs on.</param>
    /// <param name="socket">The client's socket.</param>
    /// <param name="progress">Where bytes and waits are reported.</param>
    /// <param name="gate">The executor's slots.</param>
    /// <param name="stopping">Cancelled when the owner stops the session; only the wait for a slot watches it (a stop shuts the receive side, which ends the receive).</param>
    /// <param name="first">Data that came with a PROXY protocol header: the first message of the first turn.</param>
    public static async ValueTask<CloseReason> RunAsync(RingLoop loop, Socket socket, EchoProgress progress, ISlotGate gate, CancellationToken stopping, byte[]? first)
    {
        loop.SessionStarted();
        try
        {
            await loop.SwitchTo();
            RingSocket connection;
            try
            {
                connection = RingSocket.Open(loop, socket);
            }
            catch (ObjectDisposedException) when (progress.StopRequested)
            {
                return CloseReason.Shutdown; // stopped (and closed) before its session began
            }

            try
            {
                return await EchoAsync(loop, connection, socket, progress, gate, stopping, first);
            }
            finally
            {
                await loop.SwitchTo(); // a fault while queued for a slot leaves the session on the thread pool
                await connection.CloseAsync();
            }
        }
        finally
        {
            loop.SessionEnded();
        }
    }

    private static async ValueTask<CloseReason> EchoAsync(RingLoop loop, RingSocket connection, Socket socket, EchoProgress progress, ISlotGate gate, CancellationToken stopping, byte[]? first)
    {
        while (!progress.StopRequested)
        {
            if (first is null)
            {
                progress.Set(SessionWait.Receive);
                await connection.WaitForDataAsync();
                if (progress.StopRequested)
                {
                    break;
                }
            }

            progress.Set(SessionWait.Slot);
            var entering = gate.EnterAsync(stopping);
            CloseReason? refusal;
            if (entering.IsCompletedSuccessfully)
            {
                refusal = entering.Result;
            }
            else
            {
                // Queued: the grant resumes the session on the thread pool; back to the ring before touching it.
                refusal = await entering;
                await loop.SwitchTo();
            }

            if (refusal is { } refused)
            {
                return refused;
            }

            progress.Set(SessionWait.Echo);
            var turn = await TurnAsync(connection, socket, progress, gate, first);
            first = null;
            if (turn.Ended is { } reason)
            {
                return reason;
            }

            if (turn.Unsent != 0)
            {
                if (await SendUnsentAsync(connection, progress, turn.Unsent, turn.UnsentCount) is { } failed)
                {
                    return failed;
                }
            }
        }

        return CloseReason.Shutdown; // asked to stop: the owner's reason is the one reported
    }

    /// <summary>One slot turn; the slot goes back before it returns, whatever happened.</summary>
    private static async ValueTask<Turn> TurnAsync(RingSocket connection, Socket socket, EchoProgress progress, ISlotGate gate, byte[]? first)
    {
        try
        {
            for (int reads = 0; reads < AsyncEchoLoop.ReadsPerTurn; reads++)
            {
                // The data that came with the header is this turn's first message; every later one is a filled buffer.
                nint data;
                int length;
                int id = -1;
                if (first is not null)
                {
                    data = RingSocket.CopyToNative(first);
                    length = first.Length;
                    first = null;
                }
                else if (connection.TryTake(out ushort taken, out length))
                {
                    id = taken;
                    data = connection.BufferAddress(taken);
                }
                else if (connection.End != RingSocket.StillOpen)
                {
                    return new Turn(EndOf(connection.End, socket, progress), 0, 0);
                }
                else
                {
                    break; // nothing (more) held: back to waiting, without the slot
                }

                try
                {
                    progress.AddBytesIn(length);
                    int sent = await connection.SendNowAsync(data, length);
                    if (sent == -Interop.EAGAIN)
                    {
                        sent = 0;
                    }
                    else if (sent < 0)
                    {
                        return new Turn(RingErrors.ToCloseReason(-sent), 0, 0);
                    }

                    // Counted as the kernel takes them, so that a reset can take back exactly what it throws away.
                    progress.AddBytesOut(sent);
                    if (sent < length)
                    {
                        // The client is slow to take our bytes: keep only those, and end the turn.
                        var rest = RingSocket.CopyToNative(Bytes(data + sent, length - sent));
                        return new Turn(null, rest, length - sent);
                    }
                }
                finally
                {
                    if (id >= 0)
                    {
                        connection.Return((ushort)id);
                    }
                    else
                    {
                        RingSocket.FreeCopy(data);
                    }
                }
            }

            return default;
        }
        finally
        {
            gate.Exit();
        }
    }

    /// <summary>Waits, holding no slot, until the client has taken the bytes a turn could not send; then frees them. Null once sent, else why the session ends.</summary>
    private static async ValueTask<CloseReason?> SendUnsentAsync(RingSocket connection, EchoProgress progress, nint unsent, int count)
    {
        progress.Set(SessionWait.Send); // from here the watchdog holds the send timeout
        try
        {
            for (int sent = 0; sent < count;)
            {
                int taken = await connection.SendAsync(unsent + sent, count - sent, wait: true);
                if (taken < 0)
                {
                    return RingErrors.ToCloseReason(-taken);
                }

                progress.AddBytesOut(taken);
                sent += taken;
            }

            return null;
        }
        finally
        {
            RingSocket.FreeCopy(unsent); // the send has ended, with or without an error: nothing uses it now
        }
    }

    private static CloseReason EndOf(int end, Socket socket, EchoProgress progress)
    {
        if (end != 0)
        {
            return RingErrors.ToCloseReason(-end);
        }

        if (progress.StopRequested)
        {
            return CloseReason.Shutdown;
        }

        SocketErrors.TryShutdownSend(socket);
        return CloseReason.ClientClosed;
    }

    private static unsafe ReadOnlySpan<byte> Bytes(nint data, int length) => new((void*)data, length);

    /// <summary>How a turn ended: a reason to end the session, or bytes left to send (native, <see cref="RingSocket.FreeCopy"/>), or neither.</summary>
    private readonly record struct Turn(CloseReason? Ended, nint Unsent, int UnsentCount);
}
