namespace EchoServer.LoadTest;

/// <summary>One of the <c>--connections</c> slots: what it still has to send, and what it keeps across reconnects.</summary>
internal sealed class ConnectionSlot(int index, long quota, int messageSize)
{
    public readonly int Phase = Pattern.PhaseOf(index);

    public long Remaining = quota;

    /// <summary>Whether any connection of this slot got an echo (counted once per slot).</summary>
    public bool Answered;

    /// <summary>Whether any connection of this slot got a reply at any time, warm-up included: a slot never answered is a failure of its own.</summary>
    public bool Replied;

    /// <summary>Set by a mode that made progress without using up messages (hold), so that its reconnect is immediate.</summary>
    public bool Progressed;

    /// <summary>Whether this slot's first connect has ended, connected or not: the warm-up waits for every slot's.</summary>
    public bool Tried;

    /// <summary>Set when the server closed the connection cleanly between messages: not an error; the slot connects again.</summary>
    public bool ClosedByServer;

    /// <summary>The receive buffer, allocated once for the whole run.</summary>
    public readonly byte[] Buffer = new byte[Math.Min(Math.Max(messageSize, 4096), 256 * 1024)];
}
