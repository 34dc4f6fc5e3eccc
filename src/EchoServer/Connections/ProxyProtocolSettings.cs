namespace EchoServer.Connections;

/// <summary>How each connection's PROXY protocol header is read: whether it must come, who may send one, how long it may take, and the most bytes read at a time.</summary>
/// <param name="Mode">Required (a connection without a header is refused) or optional (one without is served as it is).</param>
/// <param name="TrustedProxies">The sources allowed to send a header; a connection from any other is refused (required) or served as it is (optional).</param>
/// <param name="HeaderTimeout">Time from accept to a complete header (optional: to a header, or bytes that rule one out).</param>
/// <param name="ReadLimit">The most bytes one read takes (the receive buffer size).</param>
internal sealed record ProxyProtocolSettings(ProxyProtocolMode Mode, TrustedProxies TrustedProxies, TimeSpan HeaderTimeout, int ReadLimit)
{
    /// <summary>
    /// The header deadline the watchdog holds: required mode only, where missing it ends the connection. In optional
    /// mode missing it may mean "no header", which must leave the socket open, so the read holds that deadline itself.
    /// </summary>
    public TimeSpan WatchdogHeaderTimeout => Mode == ProxyProtocolMode.Required ? HeaderTimeout : TimeSpan.Zero;
}
