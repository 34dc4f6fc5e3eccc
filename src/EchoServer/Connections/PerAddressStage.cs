namespace EchoServer.Connections;

/// <summary>
/// With <c>--max-connections-per-ip</c>: refuses a connection whose client address already holds the limit
/// (<c>per-ip-limit</c>), after the PROXY protocol header has named the client; the count is given back when the
/// connection closes.
/// </summary>
internal sealed class PerAddressStage(int limit) : IConnectionStage
{
    private static readonly Action<ClientConnection, object?> Release =
        static (connection, limiter) => ((PerAddressLimiter)limiter!).Release(connection.RemoteEndPoint!.Address);

    private readonly PerAddressLimiter _limiter = new(limit);

    public ValueTask OnConnectionAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
    {
        if (connection.RemoteEndPoint is { } remote)
        {
            if (!_limiter.TryAcquire(remote.Address))
            {
                connection.Refuse(CloseReason.PerIpLimit);
                return ValueTask.CompletedTask;
            }

            connection.OnClose(Release, _limiter);
        }

        return next(connection, cancellationToken);
    }
}
