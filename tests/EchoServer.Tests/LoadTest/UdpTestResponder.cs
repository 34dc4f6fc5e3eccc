using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EchoServer.Tests.LoadTest;

/// <summary>
/// A UDP echo that misbehaves on purpose, for echo-load's UDP statistics: for each datagram (and its sequence
/// number, the first 8 bytes), <c>respond</c> says what to send back and after how long. Called from one loop,
/// so it may keep state without locking.
/// </summary>
internal sealed class UdpTestResponder : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public UdpTestResponder(Func<long, byte[], IEnumerable<(byte[] Data, TimeSpan Delay)>> respond)
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = RunAsync(respond);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Datagrams received so far.</summary>
    public int Received { get; private set; }

    /// <summary>Sends each datagram back once, at once.</summary>
    public static IEnumerable<(byte[] Data, TimeSpan Delay)> Echo(byte[] data) => [(data, TimeSpan.Zero)];

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task RunAsync(Func<long, byte[], IEnumerable<(byte[] Data, TimeSpan Delay)>> respond)
    {
        var buffer = new byte[65_536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
                byte[] data = buffer[..result.ReceivedBytes];
                Received++;
                long seq = data.Length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(data) : -1;
                foreach (var (reply, delay) in respond(seq, data))
                {
                    if (delay > TimeSpan.Zero)
                    {
                        _ = SendLaterAsync(reply, result.RemoteEndPoint, delay); // the loop goes on meanwhile
                    }
                    else
                    {
                        await _socket.SendToAsync(reply, result.RemoteEndPoint, _stop.Token);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private async Task SendLaterAsync(byte[] reply, EndPoint to, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stop.Token);
            await _socket.SendToAsync(reply, to, _stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Disposed first.
        }
    }
}
