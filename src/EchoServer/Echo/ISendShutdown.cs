namespace EchoServer.Echo;

/// <summary>
/// A session stream with something to send before our FIN once the client has ended its side (TLS's
/// close_notify under a wrapping stream); <see cref="StreamEchoLoop"/> calls it, then shuts the socket's send side.
/// </summary>
internal interface ISendShutdown
{
    /// <summary>Sends what must precede our FIN.</summary>
    ValueTask ShutdownSendAsync();
}
