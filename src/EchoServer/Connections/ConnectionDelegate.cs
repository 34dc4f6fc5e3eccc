namespace EchoServer.Connections;

/// <summary>The rest of the hand-off, from one stage's point of view: the next stages, then the pool.</summary>
/// <param name="connection">The connection, registered and counted.</param>
/// <param name="cancellationToken">Cancelled when the server stops accepting.</param>
internal delegate ValueTask ConnectionDelegate(ClientConnection connection, CancellationToken cancellationToken);
