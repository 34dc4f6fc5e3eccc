namespace EchoServer.Echo;

/// <summary>What a running session is blocked on.</summary>
internal enum SessionWait
{
    /// <summary>Not started, or between calls.</summary>
    None,

    /// <summary>Waiting for the client to send.</summary>
    Receive,

    /// <summary>Waiting for the client to read what we sent.</summary>
    Send,
}
