using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EchoServer.Connections;

/// <summary>How reading a PROXY protocol header ended: the header's version and client address, the data that came with it, or what was wrong.</summary>
internal readonly record struct ProxyHeaderRead(ProxyHeaderStatus Status, int Version, IPEndPoint? Source, byte[]? Data, string? Error)
{
    public static ProxyHeaderRead Failed(string error) => new(ProxyHeaderStatus.Invalid, 0, null, null, error);
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
    public static async ValueTask<ProxyHeaderRead> ReadAsync(Socket socket, int bufferSize, CancellationToken cancellationToken)
    {
        var parser = new ProxyHeaderParser();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        try
        {
            while (true)
            {
                int wanted = Math.Min(Math.Min(parser.Wanted, bufferSize), buffer.Length);
                int received = await socket.ReceiveAsync(buffer.AsMemory(0, wanted), SocketFlags.None, cancellationToken);
                if (received == 0)
                {
                    return ProxyHeaderRead.Failed(parser.Length == 0
                        ? "closed before sending a header"
                        : string.Create(CultureInfo.InvariantCulture, $"closed after {parser.Length} bytes of a header"));
                }

                var status = parser.Feed(buffer.AsSpan(0, received), out int consumed);
                if (status == ProxyHeaderStatus.Invalid)
                {
                    return ProxyHeaderRead.Failed(parser.Error!);
                }

                if (status == ProxyHeaderStatus.Complete)
                {
                    // The client's first data, sent with the header: it outlives this buffer, and is shorter than a v1 line.
                    byte[]? data = consumed < received ? buffer.AsSpan(consumed, received - consumed).ToArray() : null;
                    return new ProxyHeaderRead(status, parser.Version, parser.Source, data, null);
                }
            }
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
}
