using System.Diagnostics;

namespace EchoServer.LoadTest;

/// <summary>Hold mode: open, echo once, then stay open and quiet until the run ends.</summary>
internal sealed partial class LoadRunner
{
    private async Task HoldAsync(ConnectionSlot slot, CancellationToken stop)
    {
        long start = Stopwatch.GetTimestamp();
        using var connection = await ConnectAsync(slot, stop);
        await SendAsync(connection, slot.Phase, 0, _options.MessageSize, stop);
        await ReceiveFirstAsync(connection, slot, start, stop);
        Stats.RecordMessage(start, Stopwatch.GetTimestamp(), _options.MessageSize, ref slot.Answered);
        Stats.RecordReply(ref slot.Replied);
        Stats.RecordConnect();
        slot.Progressed = true;

        // Held open and quiet until the run ends; a server that drops it is noticed (and it is opened again).
        Stats.RecordHeld(1);
        int n;
        try
        {
            n = await connection.ReceiveAsync(slot.Buffer, stop);
        }
        catch (Exception) when (!stop.IsCancellationRequested)
        {
            Stats.RecordHeld(-1);
            throw;
        }

        Stats.RecordHeld(-1);

        // A FIN while held owes nothing: a clean close (a draining server), and the connection is opened again.
        slot.ClosedByServer = n == 0 ? true : throw new EchoFailure(ErrorKind.Mismatch);
    }
}
