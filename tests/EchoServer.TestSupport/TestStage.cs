using EchoServer.Connections;

namespace EchoServer.TestSupport;

/// <summary>A connection stage every test server runs last before its pool: a test's way to each new connection.</summary>
internal sealed class TestStage : IConnectionStage
{
    /// <summary>Called for each connection on its way to the pool; null for nothing.</summary>
    public Action<ClientConnection>? OnConnection { get; set; }

    public ValueTask OnConnectionAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
    {
        OnConnection?.Invoke(connection);
        return next(connection, cancellationToken);
    }
}
