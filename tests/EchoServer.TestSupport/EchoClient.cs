using System.Net;
using System.Net.Sockets;

namespace EchoServer.TestSupport;

/// <summary>A loopback client with the helpers echo tests need.</summary>
internal sealed class EchoClient : IDisposable
{
    private EchoClient(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    public static async Task<EchoClient> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return new EchoClient(socket);
    }

    /// <summary>Sends <paramref name="payload"/> and reads back exactly as many bytes.</summary>
    public async Task<byte[]> RoundTripAsync(byte[] payload, TimeSpan? within = null)
    {
        await Socket.SendAsync(payload, SocketFlags.None);
        return await ReadExactlyAsync(payload.Length, within);
    }

    public async Task<byte[]> ReadExactlyAsync(int count, TimeSpan? within = null)
    {
        var buffer = new byte[count];
        using var cts = new CancellationTokenSource(within ?? Eventually.Soon);
        int read = 0;
        while (read < count)
        {
            int n = await Socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new IOException($"Server closed after {read} of {count} bytes.");
            }

            read += n;
        }

        return buffer;
    }

    /// <summary>Reads until the server closes; returns everything read.</summary>
    public async Task<byte[]> ReadToEndAsync(TimeSpan? within = null)
    {
        using var cts = new CancellationTokenSource(within ?? Eventually.Soon);
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int n = await Socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, n);
        }
    }

    /// <summary>True when the server closed or reset the connection without sending anything.</summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan? within = null)
    {
        try
        {
            return (await ReadToEndAsync(within)).Length == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return true;
        }
    }

    /// <summary>Closes with RST instead of FIN.</summary>
    public void Reset()
    {
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Close();
    }

    public void Dispose() => Socket.Dispose();
}
