using System.Collections.Concurrent;

namespace EchoServer.Connections;

/// <summary>The connections open now, so that shutdown can stop them and snapshots can list them.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, ClientConnection> _open = new();

    public int Count => _open.Count;

    public void Add(ClientConnection connection) => _open.TryAdd(connection.Id, connection);

    public void Remove(ClientConnection connection) => _open.TryRemove(connection.Id, out _);

    public ICollection<ClientConnection> Snapshot() => _open.Values;

    /// <summary>
    /// Walks the open connections without locking the registry (unlike <see cref="Snapshot"/>, which takes every
    /// lock and copies): a connection added or removed meanwhile may or may not be seen.
    /// </summary>
    public IEnumerable<ClientConnection> Enumerate()
    {
        foreach (var entry in _open)
        {
            yield return entry.Value;
        }
    }

    /// <summary>Stops every open connection politely (<see cref="ClientConnection.Stop"/>); returns how many.</summary>
    public int StopAll(CloseReason reason) => ForEach(c => c.Stop(reason));

    /// <summary>Resets every open connection (<see cref="ClientConnection.Abort"/>); returns how many.</summary>
    public int AbortAll(CloseReason reason) => ForEach(c => c.Abort(reason));

    private int ForEach(Action<ClientConnection> action)
    {
        int count = 0;
        foreach (var connection in _open.Values)
        {
            action(connection);
            count++;
        }

        return count;
    }
}
