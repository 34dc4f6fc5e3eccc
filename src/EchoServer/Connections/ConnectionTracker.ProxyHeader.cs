using System.Globalization;
using EchoServer.Diagnostics;
using EchoServer.Echo;

namespace EchoServer.Connections;

/// <summary>
/// The PROXY protocol part of the hand-off: a connection from a trusted proxy has its header read
/// asynchronously, off the accept loop and before it reaches the pool, so that a slow or silent client delays
/// no other and holds no worker or slot. A complete header gives the connection its client's address (for the
/// logs, snapshots and the per-address limit) before it is admitted; anything else closes it as proxy-header.
/// </summary>
internal sealed partial class ConnectionTracker
{
    private readonly TaskCompletionSource _headerReadsEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Header reads under way, plus one that EndHeaderReadsAsync gives up once the accept loop has ended: the
    // count can reach zero only when no read is under way and none can start any more.
    private int _headerReads = 1;
    private int _headerReadsEnding;

    /// <summary>
    /// Call once the accept loop has ended, so that no header read can start: completes when every one under
    /// way has ended, its connection closed or submitted to the pool.
    /// </summary>
    public Task EndHeaderReadsAsync()
    {
        if (Interlocked.Exchange(ref _headerReadsEnding, 1) == 0)
        {
            EndHeaderRead();
        }

        return _headerReadsEnded.Task;
    }

    private void StartProxyHeader(ClientConnection connection, ProxyProtocolSettings settings, CancellationToken cancellationToken)
    {
        if (connection.RemoteEndPoint is not { } peer || !settings.TrustedProxies.Contains(peer.Address))
        {
            RejectProxyHeader(connection, "the peer is not a trusted proxy (--trusted-proxies)");
            return;
        }

        Interlocked.Increment(ref _headerReads);
        connection.Progress.Set(SessionWait.Header); // from here the watchdog holds the header deadline

        // Not awaited: the accept loop goes on at once, whatever this client takes to send its header.
        _ = ReadProxyHeaderThenAdmitAsync(connection, settings, cancellationToken);
    }

    private async Task ReadProxyHeaderThenAdmitAsync(ClientConnection connection, ProxyProtocolSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            ProxyHeaderRead header;
            try
            {
                header = await ProxyHeaderReader.ReadAsync(connection.Socket, settings.ReadLimit, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Refuse(connection, CloseReason.Shutdown); // the server stops: a client without its header yet was never served
                return;
            }

            if (header.Status != ProxyHeaderStatus.Complete)
            {
                // Past the deadline the watchdog shuts the receive side, which the read sees as a close.
                RejectProxyHeader(connection, connection.AbortReason == CloseReason.ProxyHeader
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
            ServerLog.ProxyHeaderRead(_logger, connection.Id, header.Version, proxy, connection.RemoteEndPoint);
            await AdmitAsync(connection, cancellationToken);
        }
#pragma warning disable CA1031 // As in the accept loop: a fault in one hand-off is logged and closes that client only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ServerLog.HandOffFailed(_logger, ex);
            connection.Close(CloseReason.Error);
        }
        finally
        {
            EndHeaderRead();
        }
    }

    /// <summary>
    /// Closes a connection whose header is missing, wrong, late or from an untrusted source: counted as a
    /// refusal, and logged with what was wrong under the same rate limit as every other refusal.
    /// </summary>
    private void RejectProxyHeader(ClientConnection connection, string problem)
    {
        connection.Refused = true;
        Metrics.Refused(CloseReason.ProxyHeader.ToName());
        if (MayLogRefusal(out long suppressed))
        {
            ServerLog.ProxyHeaderRejected(_logger, connection.Id, connection.RemoteEndPoint, problem, suppressed);
        }

        connection.Close(CloseReason.ProxyHeader);
    }

    private void EndHeaderRead()
    {
        if (Interlocked.Decrement(ref _headerReads) == 0)
        {
            _headerReadsEnded.TrySetResult();
        }
    }
}
