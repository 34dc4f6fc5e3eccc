using System.Net.Sockets;

namespace EchoServer.Tls;

/// <summary>
/// The ciphertext side of a TLS session: the client's socket, after the bytes a PROXY protocol header's read took
/// with it (the start of the ClientHello). It remembers the first byte the client sent (to say what a failed
/// handshake got) and what each plaintext write turned into on the wire, so that a reset can tell which echoed
/// bytes never reached the client whole (<see cref="Undelivered"/>). Zero-byte reads go to the socket as such:
/// an idle session waits for data holding no buffer.
/// </summary>
internal sealed class TlsTransport(Socket socket, byte[]? preread) : Stream
{
    /// <summary>The most ciphertext one TLS record takes: 16 KiB of data and its overhead.</summary>
    private const int LargestRecord = (16 * 1024) + 256;

    private const int Remembered = 32;

    private readonly NetworkStream _socket = new(socket, ownsSocket: false);
    private readonly Lock _lock = new();
    private readonly (long Plain, long Cipher)[] _writes = new (long, long)[Remembered];
    private byte[]? _preread = preread is { Length: > 0 } ? preread : null;
    private int _prereadOffset;
    private long _cipherSent;
    private long _plainSent;
    private long _writeCount;

    /// <summary>The first byte the client sent (0x16 opens a TLS handshake); null before any.</summary>
    public byte? FirstByte { get; private set; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Records that a plaintext write of <paramref name="count"/> bytes went out whole.</summary>
    public void Sent(int count)
    {
        lock (_lock)
        {
            _plainSent += count;
            _writes[_writeCount++ % Remembered] = (_plainSent, Volatile.Read(ref _cipherSent));
        }
    }

    /// <summary>
    /// Of the plaintext written, the bytes the client cannot have decrypted while the kernel still holds
    /// <paramref name="unsentCiphertext"/> bytes of ours: exact to a write for the last 32 writes, otherwise an
    /// upper bound (a record half sent counts as not delivered), so the echoed count never claims too much.
    /// </summary>
    public int Undelivered(int unsentCiphertext)
    {
        lock (_lock)
        {
            long delivered = Volatile.Read(ref _cipherSent) - unsentCiphertext;
            long known = Math.Min(_writeCount, Remembered);
            for (long i = 1; i <= known; i++)
            {
                var (plain, cipher) = _writes[(_writeCount - i) % Remembered];
                if (cipher <= delivered)
                {
                    return (int)Math.Min(int.MaxValue, _plainSent - plain);
                }
            }

            if (_writeCount <= Remembered)
            {
                return (int)Math.Min(int.MaxValue, _plainSent); // none of them arrived whole
            }

            var (oldestPlain, oldestCipher) = _writes[_writeCount % Remembered];
            long deliveredPlain = Math.Max(0, oldestPlain - (oldestCipher - delivered) - LargestRecord);
            return (int)Math.Min(int.MaxValue, _plainSent - deliveredPlain);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length > 0 && TakePreread(buffer) is int taken and > 0)
        {
            return taken;
        }

        return Seen(buffer, _socket.Read(buffer));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length > 0 && TakePreread(buffer.Span) is int taken and > 0)
        {
            return ValueTask.FromResult(taken);
        }

        if (_preread is not null)
        {
            return ValueTask.FromResult(0); // a zero-byte read: data is there already
        }

        var read = _socket.ReadAsync(buffer, cancellationToken);
        return read.IsCompletedSuccessfully ? ValueTask.FromResult(Seen(buffer.Span, read.Result)) : Completed(read, buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _socket.Write(buffer);
        Interlocked.Add(ref _cipherSent, buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var write = _socket.WriteAsync(buffer, cancellationToken);
        if (write.IsCompletedSuccessfully)
        {
            Interlocked.Add(ref _cipherSent, buffer.Length);
            return ValueTask.CompletedTask;
        }

        return Written(write, buffer.Length);
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _socket.Dispose();
        }

        base.Dispose(disposing);
    }

    private int TakePreread(Span<byte> buffer)
    {
        if (_preread is not { } preread)
        {
            return 0;
        }

        int count = Math.Min(buffer.Length, preread.Length - _prereadOffset);
        preread.AsSpan(_prereadOffset, count).CopyTo(buffer);
        FirstByte ??= preread[0];
        _prereadOffset += count;
        if (_prereadOffset == preread.Length)
        {
            _preread = null;
        }

        return count;
    }

    private int Seen(ReadOnlySpan<byte> buffer, int received)
    {
        if (received > 0 && FirstByte is null)
        {
            FirstByte = buffer[0];
        }

        return received;
    }

    private async ValueTask<int> Completed(ValueTask<int> read, Memory<byte> buffer)
    {
        int received = await read.ConfigureAwait(false);
        return Seen(buffer.Span, received);
    }

    private async ValueTask Written(ValueTask write, int count)
    {
        await write.ConfigureAwait(false);
        Interlocked.Add(ref _cipherSent, count);
    }
}
