using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EchoServer.Connections;

/// <summary>
/// How reading a PROXY protocol header ended: the header's version and client address, the data that came with it,
/// or what was wrong. <see cref="ProxyHeaderStatus.Absent"/> (optional header): no header, and <see cref="Data"/>
/// is what was read, the client's first data; <see cref="ProxyHeaderStatus.Incomplete"/>: a header begun but not
/// whole by the deadline.
/// </summary>
internal readonly record struct ProxyHeaderRead(ProxyHeaderStatus Status, int Version, IPEndPoint? Source, byte[]? Data, string? Error)
{
    public static ProxyHeaderRead Failed(string error) => new(ProxyHeaderStatus.Invalid, 0, null, null, error);

    public static ProxyHeaderRead Absent(byte[]? data) => new(ProxyHeaderStatus.Absent, 0, null, data, null);
}

/// <summary>
/// Reads a connection's PROXY protocol header off its socket, asynchronously and before the connection reaches
/// a pool, so that waiting for it holds no worker, no slot and no thread. Data that arrived in the same read as
/// the header is handed back, to be echoed before anything read later.
/// </summary>
internal static class ProxyHeaderReader
{
    private const int ReadSize = ProxyHeaderParser.V1MaxLength + 1;

    /// <summary>
    /// Reads until the header is complete, invalid, or the client leaves; never more than
    /// <paramref name="bufferSize"/> bytes at a time, nor past a v2 header. The deadline is the caller's: stopping the connection
    /// (its receive side shut) ends the read as a close. Throws <see cref="OperationCanceledException"/> only
    /// when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static ValueTask<ProxyHeaderRead> ReadAsync(Socket socket, int bufferSize, CancellationToken cancellationToken) =>
        ReadAsync(socket, new ProxyHeaderParser(), bufferSize, cancellationToken, cancellationToken);

    /// <summary>
    /// An optional header: reads until the first bytes rule a header out (<see cref="ProxyHeaderStatus.Absent"/>, with
    /// them as data), or a header is complete or invalid. Within <paramref name="timeLeft"/>, held here since the
    /// socket must stay usable: at it, bytes that could still begin a header (or none) are taken for data, and a
    /// header begun is <see cref="ProxyHeaderStatus.Incomplete"/>. A client that leaves before a signature is whole
    /// sent data, not a header. Throws <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static async ValueTask<ProxyHeaderRead> DetectAsync(Socket socket, int bufferSize, TimeSpan timeLeft, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeLeft > TimeSpan.Zero ? timeLeft : TimeSpan.Zero);
        return await ReadAsync(socket, new ProxyHeaderParser(optional: true), bufferSize, deadline.Token, cancellationToken);
    }

    private static async ValueTask<ProxyHeaderRead> ReadAsync(Socket socket, ProxyHeaderParser parser, int bufferSize, CancellationToken deadline, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReadSize);

        // While undecided, the bytes read so far stay at the buffer's start: if they rule a header out, they are data.
        int kept = 0;
        try
        {
            while (true)
            {
                int offset = parser.Undecided ? kept : 0;
                int wanted = Math.Min(Math.Min(parser.Wanted, bufferSize), buffer.Length - offset);
                int received = await socket.ReceiveAsync(buffer.AsMemory(offset, wanted), SocketFlags.None, deadline);
                if (received == 0)
                {
                    return parser.Undecided ? ProxyHeaderRead.Absent(Copy(buffer, 0, kept))
                        : ProxyHeaderRead.Failed(parser.Length == 0
                            ? "closed before sending a header"
                            : string.Create(CultureInfo.InvariantCulture, $"closed after {parser.Length} bytes of a header"));
                }

                kept = offset + received;
                var status = parser.Feed(buffer.AsSpan(offset, received), out int consumed);
                switch (status)
                {
                    case ProxyHeaderStatus.Invalid:
                        return ProxyHeaderRead.Failed(parser.Error!);
                    case ProxyHeaderStatus.Absent:
                        return ProxyHeaderRead.Absent(Copy(buffer, 0, kept));
                    case ProxyHeaderStatus.Complete:
                        // The client's first data, sent with the header: it outlives this buffer, and is shorter than a v1 line.
                        return new ProxyHeaderRead(status, parser.Version, parser.Source, Copy(buffer, offset + consumed, received - consumed), null);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The optional header's deadline: what could not be told from data is data; a header begun is late.
            return parser.Undecided ? ProxyHeaderRead.Absent(Copy(buffer, 0, kept)) : new ProxyHeaderRead(ProxyHeaderStatus.Incomplete, parser.Version, null, null, null);
        }
        catch (SocketException ex)
        {
            return ProxyHeaderRead.Failed(string.Create(CultureInfo.InvariantCulture, $"{ex.SocketErrorCode} after {parser.Length} bytes of a header"));
        }
        catch (ObjectDisposedException)
        {
            return ProxyHeaderRead.Failed("closed while reading the header");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[]? Copy(byte[] buffer, int start, int length) => length > 0 ? buffer.AsSpan(start, length).ToArray() : null;
}
