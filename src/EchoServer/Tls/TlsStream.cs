using System.Net.Security;

namespace EchoServer.Tls;

/// <summary>
/// One connection's <see cref="SslStream"/>, with what its handshake found wrong with a client certificate (the
/// validation callback is shared by every connection and gets the stream as its sender) and what its writes sent:
/// the plaintext and the ciphertext so far, so that a reset can tell the echoed bytes the client never got
/// (<see cref="TlsTransport.Undelivered"/>).
/// </summary>
internal sealed class TlsStream(TlsTransport transport) : SslStream(transport, leaveInnerStreamOpen: false)
{
    /// <summary>Why the client's certificate was refused; null when it was not.</summary>
    public string? CertificateProblem { get; set; }

    public TlsTransport Transport => transport;

    public override void Write(byte[] buffer, int offset, int count)
    {
        base.Write(buffer, offset, count);
        transport.Sent(count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        base.Write(buffer);
        transport.Sent(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var write = base.WriteAsync(buffer, cancellationToken);
        if (write.IsCompletedSuccessfully)
        {
            transport.Sent(buffer.Length);
            return ValueTask.CompletedTask;
        }

        return Completed(write, buffer.Length);
    }

    private async ValueTask Completed(ValueTask write, int count)
    {
        await write.ConfigureAwait(false);
        transport.Sent(count);
    }
}
