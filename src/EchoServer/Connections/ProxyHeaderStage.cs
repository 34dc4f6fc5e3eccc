using System.Globalization;
using EchoServer.Diagnostics;
using EchoServer.Echo;
using Microsoft.Extensions.Logging;

namespace EchoServer.Connections;

/// <summary>
/// With <c>--proxy-protocol</c>: a connection from a trusted proxy has its header read asynchronously, off the
/// accept loop and before it reaches the pool, so that a slow or silent client delays no other and holds no
/// worker or slot. A complete header gives the connection its client's address (for the logs, snapshots and the
/// per-address limit) and the data that came with it; anything else refuses it as <c>proxy-header</c>. With an
/// optional header (<c>--proxy-protocol optional</c>), first bytes that rule a header out, or silence until the
/// deadline, pass the connection on as it is, those bytes its first data; an untrusted source's bytes are data
/// from the first, never parsed.
/// </summary>
internal sealed class ProxyHeaderStage(ProxyProtocolSettings settings, DetachedHandOffs handOffs, ILogger logger) : IConnectionStage
{
    /// <summary>Time from accept to a complete header: held by <see cref="ConnectionWatchdog"/>.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(3);

    public ValueTask OnConnectionAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
    {
        if (connection.RemoteEndPoint is not { } peer || !settings.TrustedProxies.Contains(peer.Address))
        {
            if (settings.Mode == ProxyProtocolMode.Optional)
            {
                return next(connection, cancellationToken); // not a proxy: whatever it sends is its own data
            }

            connection.Refuse(CloseReason.ProxyHeader, "the peer is not a trusted proxy (--trusted-proxies)");
            return ValueTask.CompletedTask;
        }

        connection.Progress.Set(SessionWait.Header); // from here the watchdog holds the header deadline

        // Not awaited: the accept loop goes on at once, whatever this client takes to send its header.
        handOffs.Start(static s => s.Stage.ReadThenPassOnAsync(s.Connection, s.Next, s.CancellationToken), (Stage: this, Connection: connection, Next: next, CancellationToken: cancellationToken));
        return ValueTask.CompletedTask;
    }

    private async Task ReadThenPassOnAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
    {
        try
        {
            ProxyHeaderRead header;
            try
            {
                header = settings.Mode == ProxyProtocolMode.Optional
                    ? await ProxyHeaderReader.DetectAsync(connection.Socket, settings.ReadLimit, settings.HeaderTimeout - connection.Age, cancellationToken)
                    : await ProxyHeaderReader.ReadAsync(connection.Socket, settings.ReadLimit, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                connection.Refuse(CloseReason.Shutdown); // the server stops: a client without its header yet was never served
                return;
            }

            if (header.Status == ProxyHeaderStatus.Absent)
            {
                connection.Preread = header.Data;
                connection.Progress.Set(SessionWait.None);
                ServerLog.ProxyHeaderAbsent(logger, connection.Id, connection.RemoteEndPoint, header.Data?.Length ?? 0);
                await next(connection, cancellationToken);
                return;
            }

            if (header.Status != ProxyHeaderStatus.Complete)
            {
                // Past the deadline the watchdog shuts the receive side, which the read sees as a close (required),
                // or the read itself gives up (optional: Incomplete).
                connection.Refuse(CloseReason.ProxyHeader, header.Status == ProxyHeaderStatus.Incomplete || connection.AbortReason == CloseReason.ProxyHeader
                    ? string.Create(CultureInfo.InvariantCulture, $"no complete header within {settings.HeaderTimeout.TotalSeconds:0.###} s")
                    : header.Error!);
                return;
            }

            var proxy = connection.RemoteEndPoint;
            if (header.Source is { } source)
            {
                connection.RemoteEndPoint = source;
            }

            connection.Preread = header.Data;
            connection.Progress.Set(SessionWait.None);
            ServerLog.ProxyHeaderRead(logger, connection.Id, header.Version, proxy, connection.RemoteEndPoint);
            await next(connection, cancellationToken);
        }
#pragma warning disable CA1031 // As in the accept loop: a fault in one hand-off is logged and closes that client only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ServerLog.HandOffFailed(logger, ex);
            connection.Close(CloseReason.Error);
        }
    }
}
