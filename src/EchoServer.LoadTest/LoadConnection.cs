using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace EchoServer.LoadTest;

/// <summary>
/// One TCP connection of a run, plaintext or over TLS: every mode sends and receives through it. Plaintext goes
/// straight to the socket, as before TLS existed, so it pays nothing for the choice.
/// </summary>
internal sealed class LoadConnection(Socket socket, SslStream? tls = null, TlsClient? client = null) : IDisposable
{
    private bool _confirmed;

    /// <summary>Up to <paramref name="buffer"/>'s length of decrypted bytes; 0 when the server closed.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        tls is null ? socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)
        : _confirmed ? tls.ReadAsync(buffer, cancellationToken)
        : FirstReadAsync(tls, buffer, cancellationToken);

    /// <summary>Sends some of <paramref name="buffer"/> (all of it over TLS); returns how much.</summary>
    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
        tls is null ? socket.SendAsync(buffer, SocketFlags.None, cancellationToken) : WriteAllAsync(tls, buffer, cancellationToken);

    /// <summary>Ends the session the way a TLS client does, with close_notify, before the socket closes; nothing to do in plaintext.</summary>
    public async ValueTask CloseAsync()
    {
        if (tls is not null)
        {
            await tls.ShutdownAsync();
        }
    }

    public void Dispose()
    {
        tls?.Dispose();
        socket.Dispose();
    }

    /// <summary>
    /// In TLS 1.3 the client's handshake ends before the server has checked the client's certificate: a refusal
    /// (an alert) arrives with the first record read, and counts as the failed handshake it is.
    /// </summary>
    private async ValueTask<int> FirstReadAsync(SslStream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            int n = await stream.ReadAsync(buffer, cancellationToken);
            _confirmed = true;
            return n;
        }
        catch (IOException ex) when (ex.InnerException is not SocketException && !cancellationToken.IsCancellationRequested)
        {
            client?.RecordFailure($"the server ended the session after the handshake: {ex.GetBaseException().Message}");
            throw new EchoFailure(ErrorKind.TlsHandshake);
        }
    }

    // Pooled: a write that waits for the socket would otherwise allocate a state machine per message.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> WriteAllAsync(SslStream tls, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await tls.WriteAsync(buffer, cancellationToken);
        return buffer.Length;
    }
}
