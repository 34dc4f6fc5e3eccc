using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;

namespace EchoServer.LoadTest;

/// <summary>
/// UDP (<c>--udp</c>): each slot is a connected UDP socket (a source port of its own), in ping-pong or open loop
/// (<c>--rate</c>). Each datagram carries its sequence number, then the slot's pattern from an offset set by that
/// number, so that a reply is verified byte for byte and told first, duplicate, late or out of order. A datagram
/// unanswered for <c>--reply-timeout</c> is lost; ping-pong then sends the next one.
/// </summary>
internal sealed partial class LoadRunner
{
    /// <summary>The sequence number at the head of each datagram (little-endian): the smallest <c>--message-size</c> with <c>--udp</c>.</summary>
    public const int DatagramHeader = sizeof(long);

    /// <summary>The largest UDP payload over IPv4: the largest <c>--message-size</c> with <c>--udp</c>.</summary>
    public const int MaxDatagram = 65_507;

    /// <summary>Ping-pong has one datagram in flight; older ones are remembered this far back, to tell a late reply from a duplicate.</summary>
    private const int PingPongWindow = 64;

    private async Task DatagramsAsync(ConnectionSlot slot, CancellationToken stop)
    {
        using var socket = new Socket(_endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (_options.Rate is not null)
        {
            socket.ReceiveBufferSize = 4 << 20; // a burst of replies waits here, not in a drop (capped by the kernel's rmem_max)
        }

        // No handshake: connecting fixes the peer, so that only its replies come in, and an ICMP port unreachable surfaces.
        await socket.ConnectAsync(_endPoint, stop);
        byte[] send = ArrayPool<byte>.Shared.Rent(_options.MessageSize);
        byte[] receive = ArrayPool<byte>.Shared.Rent(_options.MessageSize + 1); // one more, so that a longer reply shows
        var flow = new DatagramFlow(_options.Rate is { } rate ? _options.UdpWindow ?? OpenLoopWindow(rate) : PingPongWindow);
        try
        {
            await (_options.Rate is null ? DatagramPingPongAsync(socket, slot, flow, send, receive, stop) : DatagramOpenLoopAsync(socket, slot, flow, send, receive, stop));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused && !stop.IsCancellationRequested)
        {
            // Port unreachable: nothing listens there. What waits is lost, and goes again on a new socket after the
            // slot's back-off (which a refusal before any answer triggers, as over TCP).
            var lost = flow.Expire(long.MaxValue);
            RecordLost(lost);
            slot.Remaining += lost.Expired;
            throw new EchoFailure(ErrorKind.ConnectRefused);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(send);
            ArrayPool<byte>.Shared.Return(receive);
        }
    }

    private async Task DatagramPingPongAsync(Socket socket, ConnectionSlot slot, DatagramFlow flow, byte[] send, byte[] receive, CancellationToken stop)
    {
        // Not linked to stop: the datagram in flight when the run ends still gets its reply timeout.
        var timeout = new CancellationTokenSource();
        try
        {
            while (slot.Remaining > 0 && !stop.IsCancellationRequested)
            {
                long seq = flow.Next;
                await SendDatagramAsync(socket, flow, slot, send, Stopwatch.GetTimestamp(), stop);
                timeout.CancelAfter(_options.ReplyTimeout);
                try
                {
                    while (HandleDatagram(flow, slot, receive.AsSpan(0, await socket.ReceiveAsync(receive, SocketFlags.None, timeout.Token))).Answered != seq)
                    {
                    }
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    RecordLost(flow.Expire(long.MaxValue));
                    timeout.Dispose();
                    timeout = new CancellationTokenSource();
                    continue;
                }

                if (!timeout.TryReset())
                {
                    timeout.Dispose();
                    timeout = new CancellationTokenSource();
                }
            }
        }
        finally
        {
            timeout.Dispose();
        }
    }

    /// <summary>A sender on the <c>--rate</c> schedule, a receiver, and a sweep that counts lost what waits past the timeout; ends when every datagram sent is answered or lost.</summary>
    private async Task DatagramOpenLoopAsync(Socket socket, ConnectionSlot slot, DatagramFlow flow, byte[] send, byte[] receive, CancellationToken stop)
    {        var credits = new CreditGate(flow.Capacity);
        using var sendEnd = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var registration = sendEnd.Token.Register(static g => ((CreditGate)g!).Open(), credits);
        using var receiveEnd = new CancellationTokenSource();
        var sender = DatagramScheduleAsync(socket, slot, flow, credits, send, sendEnd.Token);
        var sweeper = SweepAsync(flow, credits, sender, receiveEnd);
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(receive, SocketFlags.None, receiveEnd.Token);
                for (int freed = HandleDatagram(flow, slot, receive.AsSpan(0, n)).Freed; freed > 0; freed--)
                {
                    credits.Release();
                }
            }
        }
        catch (OperationCanceledException) when (receiveEnd.IsCancellationRequested)
        {
            // Every datagram sent was answered or lost.
        }
        finally
        {
            await sendEnd.CancelAsync();
            await sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await receiveEnd.CancelAsync();
            await sweeper;
        }

        await sender; // a send that failed fails the slot
    }

    private async Task DatagramScheduleAsync(Socket socket, ConnectionSlot slot, DatagramFlow flow, CreditGate credits, byte[] send, CancellationToken stop)
    {
        await Task.Yield();
        long interval = (long)(Stopwatch.Frequency * _options.Connections / _options.Rate!.Value);
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, interval * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
        long next = Stopwatch.GetTimestamp();
        try
        {
            while (slot.Remaining > 0)
            {
                if (next > Stopwatch.GetTimestamp())
                {
                    await timer.WaitForNextTickAsync(stop);
                    continue;
                }

                bool heldBack = await credits.TakeAsync();
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                // As over TCP: a datagram held back by unanswered ones counts from when it was due.
                await SendDatagramAsync(socket, flow, slot, send, heldBack ? next : Stopwatch.GetTimestamp(), stop);
                next += interval;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run ended.
        }
    }

    /// <summary>Counts lost what waited past the timeout (returning its credit), and ends the receiver once the sender is done and nothing waits.</summary>
    private async Task SweepAsync(DatagramFlow flow, CreditGate credits, Task sender, CancellationTokenSource receiveEnd)
    {
        var interval = TimeSpan.FromTicks(Math.Clamp(_options.ReplyTimeout.Ticks / 10, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerMillisecond * 100));
        long timeoutTicks = (long)(_options.ReplyTimeout.TotalSeconds * Stopwatch.Frequency);
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(receiveEnd.Token))
            {
                var lost = flow.Expire(Stopwatch.GetTimestamp() - timeoutTicks);
                RecordLost(lost);
                for (int i = 0; i < lost.Freed; i++)
                {
                    credits.Release();
                }

                if (sender.IsCompleted && flow.Pending == 0)
                {
                    await receiveEnd.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The receiver ended.
        }
    }

    private async ValueTask SendDatagramAsync(Socket socket, DatagramFlow flow, ConnectionSlot slot, byte[] buffer, long sentAt, CancellationToken stop)
    {
        int size = _options.MessageSize;
        long seq = flow.Next; // only this slot's sender sends
        BinaryPrimitives.WriteInt64LittleEndian(buffer, seq);
        Pattern.Slice(slot.Phase, BodyOffset(seq), size - DatagramHeader).Span.CopyTo(buffer.AsSpan(DatagramHeader));
        bool measured = Stats.Measuring;
        flow.Send(sentAt, measured); // before the send: the reply may come before the send returns
        if (measured)
        {
            Stats.RecordDatagramSent();
            Stats.RecordInFlight(flow.Pending);
        }

        slot.Remaining--;
        await socket.SendAsync(buffer.AsMemory(0, size), SocketFlags.None, stop);
    }

    /// <summary>Verifies and counts one reply; returns its sequence number when it is the first answer to a datagram waiting for one (otherwise -1), and the slots that freed.</summary>
    private (long Answered, int Freed) HandleDatagram(DatagramFlow flow, ConnectionSlot slot, ReadOnlySpan<byte> reply)
    {
        long now = Stopwatch.GetTimestamp();
        int size = _options.MessageSize;
        long seq = reply.Length == size ? BinaryPrimitives.ReadInt64LittleEndian(reply) : -1;
        var kind = flow.Reply(seq, out long sentAt, out bool measured, out bool reordered, out int freed);
        if (kind == ReplyKind.Unknown || Pattern.FindMismatch(slot.Phase, BodyOffset(seq), reply[DatagramHeader..]) >= 0)
        {
            // A wrong length, a sequence number never sent, or a wrong byte after it.
            Stats.RecordError(ErrorKind.Mismatch);
        }
        else if (measured)
        {
            Stats.RecordDatagramReply(kind, sentAt, now, size, reordered, ref slot.Answered);
        }

        if (kind != ReplyKind.Answered)
        {
            return (-1, 0);
        }

        Stats.RecordReply(ref slot.Replied);
        return (seq, freed);
    }

    /// <summary>
    /// Twice the datagrams one socket sends in a reply timeout (at least <see cref="OpenLoopMaxInFlight"/>, at most
    /// 2^20): one lost datagram holds its slot for the whole timeout, and must not hold the sender back meanwhile.
    /// </summary>
    private int OpenLoopWindow(double rate) =>
        (int)Math.Clamp(2 * rate / _options.Connections * _options.ReplyTimeout.TotalSeconds, OpenLoopMaxInFlight, 1 << 20);

    private long BodyOffset(long seq) => (seq * _options.MessageSize) + DatagramHeader;

    private void RecordLost((int Expired, int Measured, int Freed) lost) => Stats.RecordDatagramsLost(lost.Measured);
}
