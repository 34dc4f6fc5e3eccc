namespace EchoServer.Pools;

/// <summary>One executor session's way to a slot: enter before echoing a burst, exit after it.</summary>
internal interface ISlotGate
{
    /// <summary>
    /// Waits for a slot, FIFO with every other session; null once it is held, or why it was refused. The
    /// overload policy refuses only a session never served; a later request waits whatever the queue holds,
    /// until the queue timeout.
    /// </summary>
    ValueTask<CloseReason?> EnterAsync(CancellationToken cancellationToken);

    /// <summary>Gives the slot back (to the oldest waiter, if any); does nothing when none is held.</summary>
    void Exit();
}
