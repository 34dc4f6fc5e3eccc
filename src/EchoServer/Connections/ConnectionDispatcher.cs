using System.Net.Sockets;
using EchoServer.Diagnostics;
using EchoServer.Listening;

namespace EchoServer.Connections;

/// <summary>
/// Where an accepted socket becomes a connection, as Kestrel's <c>ConnectionDispatcher</c> does it: an id, the
/// registry, the accepted event, then the stages in order and the pool. On close it unregisters the connection,
/// reports it to the events sink and gives its permit back to the listener's limit.
/// </summary>
internal sealed class ConnectionDispatcher
{
    private readonly ConnectionRegistry _connections;
    private readonly ConnectionEvents _events;
    private readonly ConnectionPermits _permits;
    private readonly ConnectionDelegate _first;
    private readonly Action<ClientConnection> _onRefused;
    private readonly Action<ClientConnection> _onClosed;
    private long _nextConnectionId;

    /// <param name="connections">Where open connections are registered.</param>
    /// <param name="events">Told of each connection's accept and close.</param>
    /// <param name="permits">The <c>--max-connections</c> limit the listener took a permit from for each socket.</param>
    /// <param name="stages">The steps each connection takes, in order.</param>
    /// <param name="last">Where a connection goes after the last stage: the pool.</param>
    public ConnectionDispatcher(ConnectionRegistry connections, ConnectionEvents events, ConnectionPermits permits, IEnumerable<IConnectionStage> stages, ConnectionDelegate last)
    {
        _connections = connections;
        _events = events;
        _permits = permits;
        _onRefused = events.Refused;
        _onClosed = OnClosed;

        // Built from the end: each stage gets the rest of the chain as its next, one delegate call per stage.
        var next = last;
        foreach (var stage in stages.Reverse())
        {
            var rest = next;
            next = (connection, cancellationToken) => stage.OnConnectionAsync(connection, rest, cancellationToken);
        }

        _first = next;
    }

    /// <summary>Takes an accepted socket, with a permit held for it, through the stages to the pool (or to a refusal).</summary>
    public async ValueTask HandOffAsync(Socket socket, CancellationToken cancellationToken)
    {
        // Echoes are small and latency-bound: never let Nagle hold a reply back for a delayed ACK.
        try
        {
            socket.NoDelay = true;
        }
        catch (SocketException)
        {
            // Reset before we got to it; the session will see that and end.
        }

        var connection = new ClientConnection(Interlocked.Increment(ref _nextConnectionId), socket, _onRefused, _onClosed);
        _connections.Add(connection);
        _events.Accepted();
        try
        {
            await _first(connection, cancellationToken);
        }
        catch
        {
            connection.Close(CloseReason.Error); // the listener logs the fault; the client must not stay open unserved
            throw;
        }
    }

    private void OnClosed(ClientConnection connection)
    {
        _connections.Remove(connection);
        _events.Closed(connection);
        _permits.Release();
    }
}
