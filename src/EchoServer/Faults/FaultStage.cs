using System.Net.Sockets;
using EchoServer.Connections;
using EchoServer.Diagnostics;

namespace EchoServer.Faults;

/// <summary>
/// With a connection fault (<c>--fault-delay</c>, <c>--fault-chunk</c>, …): decides for each connection, with
/// <c>--fault-rate</c> from its own seeded dice, whether it is faulted; a faulted one echoes through a
/// <see cref="FaultStream"/> over what an earlier stage set (TLS) or the bare socket, and says so
/// (<c>fault=delay+chunk</c> in its close line, its snapshot entry and its metric). A connection not faulted
/// keeps the plaintext fast path.
/// </summary>
internal sealed class FaultStage(FaultSettings settings) : IConnectionStage
{
    private static readonly Action<ClientConnection, object?> Closed = static (_, stage) => Interlocked.Decrement(ref ((FaultStage)stage!)._open);

    private readonly string _names = settings.ConnectionFaults;
    private long _open;
    private long _faulted;

    /// <summary>The faults in force, as the start line lists them.</summary>
    public string InForce { get; } = settings.Describe();

    /// <summary>Faulted connections open now.</summary>
    public long Open => Volatile.Read(ref _open);

    /// <summary>Connections faulted since start.</summary>
    public long Faulted => Volatile.Read(ref _faulted);

    public ValueTask OnConnectionAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
    {
        var dice = FaultDice.For(settings.Seed, connection.Id);
        if (dice.NextDouble() < settings.Rate)
        {
            connection.Stream = new FaultStream(connection.Stream ?? new NetworkStream(connection.Socket, ownsSocket: false), settings, dice, connection);
            connection.AddDetail(ConnectionEvents.FaultDetail, _names);
            Interlocked.Increment(ref _faulted);
            Interlocked.Increment(ref _open);
            connection.OnClose(Closed, this);
        }

        return next(connection, cancellationToken);
    }
}
