namespace EchoServer.IoUring;

/// <summary>What a completion answers, in the low byte of its user data (the socket's index is above it).</summary>
internal enum RingOp : byte
{
    /// <summary>The eventfd read that wakes the ring's thread for posted work.</summary>
    Wake = 1,

    /// <summary>A socket's multishot receive.</summary>
    Receive = 2,

    /// <summary>A socket's send.</summary>
    Send = 3,

    /// <summary>The cancellation of a socket's receive.</summary>
    Cancel = 4,
}
