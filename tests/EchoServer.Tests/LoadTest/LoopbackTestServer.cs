using System.Net;
using System.Net.Sockets;

namespace EchoServer.Tests.LoadTest;

/// <summary>
/// A test double for echo-load to run against: listens on 127.0.0.1 at an ephemeral port and hands each accepted
/// connection, numbered from 1, to a handler (which usually ends in <see cref="EchoAsync"/>).
/// </summary>
internal sealed class LoopbackTestServer : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Func<int, Socket, Task> _serve;
    private int _accepted;

    private LoopbackTestServer(Func<int, Socket, Task> serve) => _serve = serve;

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public int Port => EndPoint.Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public static LoopbackTestServer Start(Func<int, Socket, Task> serve)
    {
        var server = new LoopbackTestServer(serve);
        server._listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server._listener.Listen();
        _ = server.AcceptLoopAsync();
        return server;
    }

    /// <summary>Echoes until the client closes; <paramref name="alter"/>, if given, may change each chunk (at its stream offset) before it goes back.</summary>
    public static async Task EchoAsync(Socket client, Action<long, Span<byte>>? alter = null)
    {
        var buffer = new byte[4096];
        long offset = 0;
        int n;
        while ((n = await client.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            alter?.Invoke(offset, buffer.AsSpan(0, n));
            offset += n;
            await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
        }
    }

    public void Dispose() => _listener.Dispose();

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptAsync();
                _ = ServeAsync(Interlocked.Increment(ref _accepted), client);
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            // Disposed at the end of the test.
        }
    }

    private async Task ServeAsync(int number, Socket client)
    {
        using (client)
        {
            try
            {
                await _serve(number, client);
            }
            catch (SocketException)
            {
                // The client hung up (after a mismatch, or at the end of its run).
            }
        }
    }
}
