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
    private readonly string _names = settings.ConnectionFaults;

    public ValueTask OnConnectionAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
    {
        var dice = FaultDice.For(settings.Seed, connection.Id);
        if (dice.NextDouble() < settings.Rate)
        {
            connection.Stream = new FaultStream(connection.Stream ?? new NetworkStream(connection.Socket, ownsSocket: false), settings, dice, connection);
            connection.AddDetail(ConnectionEvents.FaultDetail, _names);
        }

        return next(connection, cancellationToken);
    }
}
