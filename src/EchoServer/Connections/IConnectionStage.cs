namespace EchoServer.Connections;

/// <summary>
/// One step of the hand-off between the dispatcher and the pool (a PROXY protocol header, a per-address limit),
/// in the style of Kestrel's connection middleware: it owns its state and its refusal, and passes the
/// connection on to <c>next</c> or refuses it (<see cref="ClientConnection.Refuse"/>). It may replace the
/// client's address or hand the session bytes it read (<see cref="ClientConnection.Preread"/>), release what it
/// holds when the connection closes (<see cref="ClientConnection.OnClose"/>), and go on off the accept loop: a
/// stage that waits for the client starts a task through <see cref="DetachedHandOffs"/> and returns at once.
/// </summary>
internal interface IConnectionStage
{
    /// <summary>Runs this step for <paramref name="connection"/>, then <paramref name="next"/> unless it refuses it.</summary>
    ValueTask OnConnectionAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken);
}
