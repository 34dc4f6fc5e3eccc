using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using EchoServer.Connections;
using EchoServer.Echo;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tls;

/// <summary>
/// With TLS on: the handshake runs asynchronously off the accept loop and before the pool, like the PROXY protocol
/// header's read, so a slow or silent client delays no other and holds no worker and no slot, only its permit and
/// what <see cref="System.Net.Security.SslStream"/> holds for it. Done, the session echoes through the stream
/// (<see cref="ClientConnection.Stream"/>); anything else refuses the connection as <c>tls-handshake</c>, with what
/// went wrong in one line. The watchdog holds the deadline (<see cref="SessionWait.Handshake"/>).
/// </summary>
internal sealed class TlsHandshakeStage(ServerCertificate certificate, DetachedHandOffs handOffs, ILogger logger) : IConnectionStage
{
    public ValueTask OnConnectionAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
    {
        connection.Progress.Set(SessionWait.Handshake); // from here the watchdog holds the handshake deadline

        // Not awaited: the accept loop goes on at once, whatever this client takes to shake hands.
        handOffs.Start(static s => s.Stage.HandshakeThenPassOnAsync(s.Connection, s.Next, s.CancellationToken), (Stage: this, Connection: connection, Next: next, CancellationToken: cancellationToken));
        return ValueTask.CompletedTask;
    }

    private async Task HandshakeThenPassOnAsync(ClientConnection connection, ConnectionDelegate next, CancellationToken cancellationToken)
    {
        var transport = new TlsTransport(connection.Socket, connection.Preread);
        var tls = new TlsStream(transport);
        connection.Preread = null; // the start of the ClientHello, if a PROXY header's read took it: the handshake reads it
        try
        {
            try
            {
                await tls.AuthenticateAsServerAsync(certificate.Options, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await tls.DisposeAsync();
                connection.Refuse(CloseReason.Shutdown); // the server stops: a client still shaking hands was never served
                return;
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or ObjectDisposedException)
            {
                await tls.DisposeAsync();
                connection.Refuse(CloseReason.TlsHandshake, Problem(connection, tls, transport, ex));
                return;
            }

            connection.Stream = tls;
            connection.UnsentEchoed = transport.Undelivered;
            connection.AddDetail("tls", ProtocolName(tls.SslProtocol));
            if (tls.RemoteCertificate is { } client)
            {
                connection.AddDetail("client-cert", client.Subject);
            }

            connection.Progress.Set(SessionWait.None);
            await next(connection, cancellationToken);
        }
#pragma warning disable CA1031 // As in the accept loop: a fault in one hand-off is logged and closes that client only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Diagnostics.ServerLog.HandOffFailed(logger, ex);
            connection.Close(CloseReason.Error);
        }
    }

    /// <summary>What went wrong, in the words of the protocol rather than a stack trace.</summary>
    private string Problem(ClientConnection connection, TlsStream tls, TlsTransport transport, Exception ex)
    {
        if (connection.AbortReason == CloseReason.TlsHandshake)
        {
            return string.Create(CultureInfo.InvariantCulture, $"no handshake within {certificate.Settings.HandshakeTimeout.TotalSeconds:0.###} s{(transport.FirstByte is null ? " (the client sent nothing)" : string.Empty)}");
        }

        if (tls.CertificateProblem is { } problem)
        {
            return problem;
        }

        if (transport.FirstByte is null)
        {
            return "the client closed the connection before its handshake";
        }

        if (transport.FirstByte != 0x16)
        {
            return string.Create(CultureInfo.InvariantCulture, $"not a TLS handshake (first byte 0x{transport.FirstByte:x2}): plaintext on a TLS port?");
        }

        var innermost = ex;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }

        return innermost switch
        {
            SocketException { SocketErrorCode: SocketError.ConnectionReset } => "the client reset the connection during the handshake",
            IOException or SocketException when ex is IOException => "the client closed the connection during the handshake",
            _ => $"handshake failed: {innermost.Message.TrimEnd('.')}",
        };
    }

    private static string ProtocolName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };
}
