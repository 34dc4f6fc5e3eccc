using System.Diagnostics;

namespace EchoServer.LoadTest;

/// <summary>Connect mode: connect (with <c>--tls</c>: and a full handshake), echo one message, close, repeat.</summary>
internal sealed partial class LoadRunner
{
    private async Task ConnectLoopAsync(ConnectionSlot slot, CancellationToken stop)
    {
        while (slot.Remaining > 0 && !stop.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            using (var connection = await ConnectAsync(slot, stop))
            {
                await SendAsync(connection, slot.Phase, 0, _options.MessageSize, stop);
                await ReceiveFirstAsync(connection, slot, start, stop);
                await connection.CloseAsync();
            }

            Stats.RecordMessage(start, Stopwatch.GetTimestamp(), _options.MessageSize);
            Stats.RecordReply(ref slot.Replied);
            Stats.RecordConnect();
            slot.Remaining--;
        }
    }
}
