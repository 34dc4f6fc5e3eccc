using System.Net;
using Microsoft.AspNetCore.Connections;

namespace EchoServer.Hosting;

/// <summary>
/// Kestrel's socket transport with the admin endpoint's connection limit applied before accept, the way the echo
/// listener applies <c>--max-connections</c>: while <see cref="AdminEndpoint.MaxConnections"/> are open, nothing is
/// accepted and a flood waits in the kernel's backlog, holding none of our descriptors. Kestrel's own
/// <c>MaxConcurrentConnections</c> accepts each extra connection before it closes it: under a flood, and with the
/// thread pool busy, those accepted-not-yet-closed sockets took every descriptor the process had.
/// </summary>
internal sealed class AdminConnectionGate(IConnectionListenerFactory transport, int limit) : IConnectionListenerFactory
{
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new Listener(await transport.BindAsync(endpoint, cancellationToken), limit);

    private sealed class Listener(IConnectionListener inner, int limit) : IConnectionListener
    {
        // No maximum count: a release can never throw on a transport thread.
        private readonly SemaphoreSlim _slots = new(limit);
        private readonly CancellationTokenSource _unbound = new();

        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
            try
            {
                await _slots.WaitAsync(either.Token);
            }
            catch (OperationCanceledException)
            {
                return null; // unbound: Kestrel reads null as "no more connections"
            }

            ConnectionContext? connection;
            try
            {
                connection = await inner.AcceptAsync(cancellationToken);
            }
            catch
            {
                _slots.Release();
                throw;
            }

            if (connection is null)
            {
                _slots.Release();
                return null;
            }

            connection.ConnectionClosed.Register(static slots => ((SemaphoreSlim)slots!).Release(), _slots);
            return connection;
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            await _unbound.CancelAsync();
            await inner.UnbindAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await _unbound.CancelAsync();
            await inner.DisposeAsync();
            _unbound.Dispose();
        }
    }
}
