namespace EchoServer.Echo;

/// <summary>What a session is doing or waiting for now.</summary>
internal enum SessionWait
{
    /// <summary>Not started yet, or ended.</summary>
    None,

    /// <summary>Waiting for the client to send (the idle timeout applies).</summary>
    Receive,

    /// <summary>Executor: data is there, waiting in the queue for a slot.</summary>
    Slot,

    /// <summary>Echoing what the client sent (executor: holding a slot).</summary>
    Echo,

    /// <summary>Waiting for the client to take what we sent (the send timeout applies; executor: holding no slot, only the unsent bytes).</summary>
    Send,

    /// <summary>Not started yet: reading the PROXY protocol header (the header deadline applies).</summary>
    Header,

    /// <summary>Not started yet: the TLS handshake (the handshake deadline applies).</summary>
    Handshake,
}

/// <summary>The one spelling of each <see cref="SessionWait"/>, as snapshots print it.</summary>
internal static class SessionWaitNames
{
    private static readonly string[] Names = ["none", "receiving", "queued", "echoing", "sending", "reading-header", "handshaking"];

    public static string ToName(this SessionWait wait) => Names[(int)wait];
}
