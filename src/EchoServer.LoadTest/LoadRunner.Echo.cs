using System.Diagnostics;
using System.Net.Sockets;

namespace EchoServer.LoadTest;

/// <summary>Echo mode, ping-pong: one message in flight per connection, each timed from its send to its whole reply.</summary>
internal sealed partial class LoadRunner
{
    private async Task EchoAsync(ConnectionSlot slot, CancellationToken stop)
    {
        using var socket = await ConnectAsync(stop);
        if (_options.Pipeline == 1 && _options.Rate is null)
        {
            await PingPongAsync(socket, slot, stop);
        }
        else
        {
            await PipelinedAsync(socket, slot, stop);
        }
    }

    private async Task PingPongAsync(Socket socket, ConnectionSlot slot, CancellationToken stop)
    {
        int size = _options.MessageSize;
        long offset = 0;
        while (slot.Remaining > 0 && !stop.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await SendAsync(socket, slot.Phase, offset, size, stop);
                if (!await ReceiveAsync(socket, slot.Phase, offset, size, slot.Buffer, stop))
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
