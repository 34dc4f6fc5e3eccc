namespace EchoServer.Connections;

/// <summary>How each connection's PROXY protocol header is read: who may send one, how long it may take, and the most bytes read at a time.</summary>
/// <param name="TrustedProxies">The sources allowed to send a header; a connection from any other is closed.</param>
/// <param name="HeaderTimeout">Time from accept to a complete header.</param>
/// <param name="ReadLimit">The most bytes one read takes (the receive buffer size).</param>
internal sealed record ProxyProtocolSettings(TrustedProxies TrustedProxies, TimeSpan HeaderTimeout, int ReadLimit);
