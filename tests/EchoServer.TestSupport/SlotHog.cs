using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoServer.Echo;

namespace EchoServer.TestSupport;

/// <summary>
/// A client that sends without ever reading: once the socket buffers fill, the server's echo blocks in a send,
/// so its session holds a worker (workers) until the hog is disposed; the executor's session waits for that
/// send holding no slot.
/// </summary>
internal sealed class SlotHog : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;

    private SlotHog(Socket socket)
    {
        Socket = socket;
        Sending = Task.Run(SendForeverAsync);
    }

    public Socket Socket { get; }

    public Task Sending { get; }

    /// <summary>
    /// True once <paramref name="count"/> sessions of <paramref name="server"/> have been blocked in a send for a
    /// while: hogs stuck for good, not bursts passing through.
    /// </summary>
    public static bool AreBlocked(TestServer server, int count = 1) =>
        server.Service.Connections.Snapshot().Count(c => c.Progress.Waiting is (SessionWait.Send, var since) && Stopwatch.GetElapsedTime(since) > TimeSpan.FromMilliseconds(200)) == count;

    public static async Task<SlotHog> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, SendBufferSize = 4096 };
        await socket.ConnectAsync(endPoint);
        return new SlotHog(socket);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Dispose();
        _stop.Dispose();
    }

    private async Task SendForeverAsync()
    {
        var chunk = new byte[16 * 1024];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Socket.SendAsync(chunk, SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Stopped, or closed by the server.
        }
    }
}
