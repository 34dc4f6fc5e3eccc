using System.Diagnostics;

namespace EchoServer.LoadTest;

/// <summary>Echo mode, ping-pong: one message in flight per connection, each timed from its send to its whole reply.</summary>
internal sealed partial class LoadRunner
{
    private async Task EchoAsync(ConnectionSlot slot, CancellationToken stop)
    {
        using var connection = await ConnectAsync(slot, stop);
        if (_options.Pipeline == 1 && _options.Rate is null)
        {
            await PingPongAsync(connection, slot, stop);
        }
        else
        {
            await PipelinedAsync(connection, slot, stop);
        }
    }

    private async Task PingPongAsync(LoadConnection connection, ConnectionSlot slot, CancellationToken stop)
    {
        int size = _options.MessageSize;
        long offset = 0;
        while (slot.Remaining > 0 && !stop.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await SendAsync(connection, slot.Phase, offset, size, stop);
                if (!await ReceiveAsync(connection, slot.Phase, offset, size, slot.Buffer, stop))
                {
                    // Closed before any byte of this reply: a clean close if this connection echoed before.
                    slot.ClosedByServer = offset > 0 ? true : throw new EchoFailure(ErrorKind.ShortEcho);
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                CountIfStalled(start);
                throw;
            }

            Stats.RecordMessage(start, Stopwatch.GetTimestamp(), size, ref slot.Answered);
            Stats.RecordReply(ref slot.Replied);
            slot.Remaining--;
            offset += size;
        }
    }
}
