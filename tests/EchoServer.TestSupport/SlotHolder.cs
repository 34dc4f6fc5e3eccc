using System.Net.Sockets;
using EchoServer.Connections;

namespace EchoServer.TestSupport;

/// <summary>
/// Makes the next sessions that start on an executor hold their slot at their first burst, as echoing, until
/// the holder is disposed: a burst that takes long to echo. No client can do that from outside, since a turn
/// never waits (a client that does not read gives its slot back while its echo is pending); a stage gives the
/// session a stream whose first read takes that long, as a stage that must see every byte (TLS) gives its own.
/// </summary>
internal sealed class SlotHolder : IDisposable
{
    private static readonly TimeSpan LongestHold = TimeSpan.FromMinutes(2);

    private readonly ManualResetEventSlim _released = new();
    private readonly SemaphoreSlim _holding = new(0);
    private int _toHold;

    private SlotHolder(int count) => _toHold = count;

    /// <summary>Holds a slot for each of the next <paramref name="count"/> sessions started on <paramref name="server"/>.</summary>
    public static SlotHolder Install(TestServer server, int count = 1)
    {
        var holder = new SlotHolder(count);
        server.Stage.OnConnection = connection =>
        {
            if (Interlocked.Decrement(ref holder._toHold) >= 0)
            {
                connection.Stream = new HoldingStream(connection, holder);
            }
        };
        return holder;
    }

    /// <summary>Connects a client and sends one byte, which this holder holds in a slot; returns once it does.</summary>
    public async Task<EchoClient> ConnectHeldAsync(TestServer server)
    {
        var held = await EchoClient.ConnectAsync(server.EndPoint);
        await held.Socket.SendAsync(new byte[] { 0 });
        if (!await _holding.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            held.Dispose();
            throw new TimeoutException("Timed out after 30 s waiting for a long burst to hold a slot");
        }

        return held;
    }

    /// <summary>Lets the held sessions echo and give their slots back.</summary>
    public void Dispose() => _released.Set();

    /// <summary>The socket's stream, whose first read with a buffer (inside the turn, holding the slot) blocks until released.</summary>
    private sealed class HoldingStream(ClientConnection connection, SlotHolder holder) : PassThroughStream(new NetworkStream(connection.Socket, ownsSocket: false))
    {
        private bool _held;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!buffer.IsEmpty && !_held)
            {
                _held = true;
                holder._holding.Release();
                try
                {
                    // Synchronously, on purpose: a burst busy this long keeps its slot, as CPU-bound work would.
                    holder._released.Wait(LongestHold, connection.Stopping);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
                {
                    // Stopped while held: the read below finds the socket shut or closed.
                }
            }

            return base.ReadAsync(buffer, cancellationToken);
        }
    }
}
