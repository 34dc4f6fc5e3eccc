using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace EchoServer.TestSupport;

/// <summary>A TLS client on .NET's own <see cref="SslStream"/>: it trusts only the certificate it is told to (or, with none, anything).</summary>
internal sealed class TlsClient : IAsyncDisposable
{
    private TlsClient(Socket socket, SslStream stream)
    {
        Socket = socket;
        Stream = stream;
    }

    public Socket Socket { get; }

    public SslStream Stream { get; }

    /// <summary>Connects and shakes hands; <paramref name="prefix"/> (a PROXY protocol header) is sent first, in the same segment as the ClientHello.</summary>
    public static async Task<TlsClient> ConnectAsync(IPEndPoint server, X509Certificate2? clientCertificate = null, byte[]? prefix = null, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, cancellationToken);
        Stream transport = new NetworkStream(socket, ownsSocket: false);
        if (prefix is not null)
        {
            transport = new PrefixStream(transport, prefix);
        }

        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            }, cancellationToken);
        }
        catch
        {
            await tls.DisposeAsync();
            socket.Dispose();
            throw;
        }

        return new TlsClient(socket, tls);
    }

    /// <summary>
    /// Sends <paramref name="data"/>, reads its echo, then ends our side as TLS does (close_notify, then a FIN) and
    /// reads to the end. The close_notify waits for the echo: OpenSSL refuses a shutdown while a read is taking in
    /// the server's session tickets, which come before the echo.
    /// </summary>
    public async Task<byte[]> EchoToEndAsync(byte[] data)
    {
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        var echoed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.Run(async () =>
        {
            int read;
            while ((read = await Stream.ReadAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, read);
                if (received.Length >= data.Length)
                {
                    echoed.TrySetResult();
                }
            }

            echoed.TrySetResult();
        });
        await Stream.WriteAsync(data);
        await Task.WhenAny(echoed.Task, reading);
        await Stream.ShutdownAsync();
        Socket.Shutdown(SocketShutdown.Send);
        await reading;
        return received.ToArray();
    }

    public async Task<byte[]> RoundTripAsync(byte[] data)
    {
        await Stream.WriteAsync(data);
        var back = new byte[data.Length];
        await Stream.ReadExactlyAsync(back);
        return back;
    }

    public async Task<byte[]> ReadToEndAsync()
    {
        using var received = new MemoryStream();
        await Stream.CopyToAsync(received);
        return received.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        Socket.Dispose();
    }

    /// <summary>Sends its prefix with the first write, so that both arrive in one segment.</summary>
    private sealed class PrefixStream(Stream inner, byte[] prefix) : PassThroughStream(inner)
    {
        private byte[]? _prefix = prefix;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _prefix, null) is { } first)
            {
                return base.WriteAsync((byte[])[.. first, .. buffer.Span], cancellationToken);
            }

            return base.WriteAsync(buffer, cancellationToken);
        }
    }
}
