using System.Collections.Concurrent;

namespace EchoServer.Echo;

/// <summary>The connections open now, so that shutdown can close them and snapshots can list them.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, ClientConnection> _open = new();

    public int Count => _open.Count;

    public void Add(ClientConnection connection) => _open.TryAdd(connection.Id, connection);

    public void Remove(ClientConnection connection) => _open.TryRemove(connection.Id, out _);

    public ICollection<ClientConnection> Snapshot() => _open.Values;

    /// <summary>Aborts every open connection with <paramref name="reason"/>; returns how many.</summary>
    public int AbortAll(CloseReason reason)
    {
        int count = 0;
        foreach (var connection in _open.Values)
        {
            connection.Abort(reason);
            count++;
        }

        return count;
    }
}
