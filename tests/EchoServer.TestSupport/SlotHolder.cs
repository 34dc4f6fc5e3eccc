using EchoServer.Connections;
using EchoServer.Echo;
using EchoServer.Pools;

namespace EchoServer.TestSupport;

/// <summary>
/// Makes the next sessions that start on an executor hold their slot at their first burst, as echoing, until
/// the holder is disposed: a burst that takes long to echo. No client can do that from outside, since a turn
/// never waits (a client that does not read gives its slot back while its echo is pending).
/// </summary>
internal sealed class SlotHolder : IDisposable
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
                connection.WrapSlotGate = gate => new HoldingGate(gate, holder, connection);
            }
        };
        return holder;
    }

    /// <summary>Connects a client and sends one byte, which a holder installed before holds in a slot; returns once it does.</summary>
    public static async Task<EchoClient> ConnectHeldAsync(TestServer server)
    {
        int busy = server.Service.Pool.Load.Busy;
        var held = await EchoClient.ConnectAsync(server.EndPoint);
        await held.Socket.SendAsync(new byte[] { 0 });
        await Eventually.True(() => server.Service.Pool.Load.Busy == busy + 1, "a long burst to hold a slot");
        return held;
    }

    /// <summary>Lets the held sessions echo and give their slots back.</summary>
    public void Dispose() => _released.TrySetResult();

    private sealed class HoldingGate(ISlotGate inner, SlotHolder holder, ClientConnection connection) : ISlotGate
    {
        private bool _held;

        public async ValueTask<CloseReason?> EnterAsync(CancellationToken cancellationToken)
        {
            if (await inner.EnterAsync(cancellationToken) is { } refusal)
            {
                return refusal;
            }

            if (!_held)
            {
                _held = true;
                connection.Progress.Set(SessionWait.Echo);
                try
                {
                    await holder._released.Task.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Stopped while held: the loop finds its socket closed.
                }
            }

            return null;
        }

        public void Exit() => inner.Exit();
    }
}
