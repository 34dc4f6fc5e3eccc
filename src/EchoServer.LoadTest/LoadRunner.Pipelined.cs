using System.Diagnostics;

namespace EchoServer.LoadTest;

/// <summary>Echo mode with <c>--pipeline</c> above 1 or <c>--rate</c>: a sender and a receiver per connection.</summary>
internal sealed partial class LoadRunner
{
    /// <summary>
    /// Sender and receiver run apart: the sender keeps up to <c>pipeline</c> messages in flight (closed loop) or
    /// sends on a fixed schedule (open loop, <c>--rate</c>), stamping each message with when it was due, so that
    /// a slow reply delays the measurement of every message behind it (no coordinated omission).
    /// </summary>
    private async Task PipelinedAsync(LoadConnection connection, ConnectionSlot slot, CancellationToken stop)
    {
        int inFlight = _options.Rate is null ? _options.Pipeline : Math.Max(_options.Pipeline, OpenLoopMaxInFlight);
        var due = new long[inFlight];
        var credits = new CreditGate(inFlight);
        var counts = new PipelineCounts();
        long quota = slot.Remaining;

        // Ends the sender with this connection, whether the run ended or the connection failed.
        using var connectionEnd = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var registration = connectionEnd.Token.Register(static g => ((CreditGate)g!).Open(), credits);
        var sender = SendScheduleAsync(connection, slot.Phase, due, credits, quota, counts, connectionEnd.Token);
        int size = _options.MessageSize;
        long offset = 0;
        int partial = 0;
        try
        {
            while (counts.Received < quota)
            {
                int n = await connection.ReceiveAsync(slot.Buffer, stop);
                if (n == 0)
                {
                    // Between whole replies, after at least one: a clean close; the unanswered ones go again on a new connection.
                    slot.ClosedByServer = partial == 0 && counts.Received > 0 ? true : throw new EchoFailure(ErrorKind.ShortEcho);
                    return;
                }

                Verify(slot.Phase, offset, slot.Buffer.AsSpan(0, n));
                offset += n;
                partial += n;
                long now = Stopwatch.GetTimestamp();
                while (partial >= size)
                {
                    partial -= size;
                    Stats.RecordMessage(due[counts.Received % inFlight], now, size, ref slot.Answered);
                    Volatile.Write(ref counts.Received, counts.Received + 1);
                    slot.Remaining--;
                    credits.Release();
                }

                if (counts.Received > 0)
                {
                    Stats.RecordReply(ref slot.Replied);
                }
            }
        }
        catch (OperationCanceledException)
        {
            if (counts.Received < Volatile.Read(ref counts.Queued))
            {
                CountIfStalled(due[counts.Received % inFlight]);
            }

            throw;
        }
        finally
        {
            await connectionEnd.CancelAsync();
            await sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task SendScheduleAsync(LoadConnection connection, int phase, long[] due, CreditGate credits, long quota, PipelineCounts counts, CancellationToken stop)
    {
        await Task.Yield();
        int size = _options.MessageSize;
        long interval = _options.Rate is { } rate ? (long)(Stopwatch.Frequency * _options.Connections / rate) : 0;
        using var timer = interval > 0 ? new PeriodicTimer(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, interval * TimeSpan.TicksPerSecond / Stopwatch.Frequency))) : null;
        long next = Stopwatch.GetTimestamp();
        long offset = 0;
        for (long sent = 0; sent < quota;)
        {
            if (timer is not null && next > Stopwatch.GetTimestamp())
            {
                if (!await timer.WaitForNextTickAsync(stop))
                {
                    return;
                }

                continue;
            }

            bool heldBack = await credits.TakeAsync();
            if (stop.IsCancellationRequested)
            {
                return;
            }

            // Open loop: a message held back by unanswered ones counts from when it was due (so a slow server
            // cannot hide its stalls); one merely woken late by the timer counts from when it really left.
            due[sent % due.Length] = timer is not null && heldBack ? next : Stopwatch.GetTimestamp();
            Volatile.Write(ref counts.Queued, sent + 1);
            Stats.RecordInFlight(sent + 1 - Volatile.Read(ref counts.Received));
            await SendAsync(connection, phase, offset, size, stop);
            offset += size;
            sent++;
            next += interval;
        }
    }

    /// <summary>Messages the sender has queued and the receiver has seen echoed, on one pipelined connection.</summary>
    private sealed class PipelineCounts
    {
        public long Queued;
        public long Received;
    }
}
