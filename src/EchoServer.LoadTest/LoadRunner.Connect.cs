using System.Diagnostics;

namespace EchoServer.LoadTest;

/// <summary>Connect mode: connect, echo one message, close, repeat.</summary>
internal sealed partial class LoadRunner
{
    private async Task ConnectLoopAsync(ConnectionSlot slot, CancellationToken stop)
    {
        while (slot.Remaining > 0 && !stop.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            using (var socket = await ConnectAsync(stop))
            {
                await SendAsync(socket, slot.Phase, 0, _options.MessageSize, stop);
                await ReceiveFirstAsync(socket, slot, start, stop);
            }

            Stats.RecordMessage(start, Stopwatch.GetTimestamp(), _options.MessageSize);
            Stats.RecordReply(ref slot.Replied);
            Stats.RecordConnect();
            slot.Remaining--;
        }
    }
}
