using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace EchoServer.LoadTest;

/// <summary>What every mode uses: connecting (bounded and timed), sending the pattern, receiving and verifying replies.</summary>
internal sealed partial class LoadRunner
{
    /// <summary>Connects (and with <c>--tls</c> completes the handshake, each within <c>--connect-timeout</c>), at most <see cref="MaxConcurrentConnects"/> at a time.</summary>
    private async Task<LoadConnection> ConnectAsync(ConnectionSlot slot, CancellationToken stop)
    {
        await _connectSlots.WaitAsync(stop);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_options.ConnectTimeout);
        Socket? socket = null;
        try
        {
            // Inside the try: a socket that cannot even be made (EMFILE: too few descriptors) is a first try that
            // failed, which the warm-up must count, or it would wait for it forever.
            socket = new Socket(_endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(_endPoint, timeout.Token);
            if (_options.ProxyProtocol is { } version)
            {
                await socket.SendAsync(ProxyHeader.Build(version, ProxySourceOf(socket), _endPoint), SocketFlags.None, stop);
            }

            // The PROXY header goes first, in plaintext, as a balancer in front of a TLS server sends it.
            return _tls is null ? new LoadConnection(socket) : await _tls.HandshakeAsync(socket, _options.ConnectTimeout, stop);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            socket?.Dispose();
            throw new EchoFailure(ErrorKind.ConnectTimeout);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            socket?.Dispose();
            throw new EchoFailure(ErrorKind.ConnectRefused);
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
        finally
        {
            _connectSlots.Release();
            if (!slot.Tried)
            {
                slot.Tried = true;
                if (Interlocked.Decrement(ref _untried) == 0)
                {
                    _allTried.TrySetResult();
                }
            }
        }
    }

    /// <summary>The client a PROXY protocol header names: --proxy-source, its port 0 meaning the connection's own; by default the connection's own address and port.</summary>
    private IPEndPoint ProxySourceOf(Socket socket)
    {
        var own = (IPEndPoint)socket.LocalEndPoint!;
        return _options.ProxySource is not { } source ? own
            : source.Port == 0 ? new IPEndPoint(source.Address, own.Port)
            : source;
    }

    // Pooled state machines: these suspend on most messages, and each suspension would otherwise allocate one.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendAsync(LoadConnection connection, int phase, long offset, int size, CancellationToken stop)
    {
        for (int sent = 0; sent < size;)
        {
            sent += await connection.SendAsync(Pattern.Slice(phase, offset + sent, size - sent), stop);
        }
    }

    /// <summary>Receives and verifies one whole reply; false when the connection closed before its first byte, short-echo when in its middle.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> ReceiveAsync(LoadConnection connection, int phase, long offset, int size, byte[] buffer, CancellationToken stop)
    {
        for (int received = 0; received < size;)
        {
            int n = await connection.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, size - received)), stop);
            if (n == 0)
            {
                return received == 0 ? false : throw new EchoFailure(ErrorKind.ShortEcho);
            }

            Verify(phase, offset + received, buffer.AsSpan(0, n));
            received += n;
        }

        return true;
    }

    /// <summary>The first reply on a new connection: a close before it is an error (the server, or a balancer in front of it, refused the connection).</summary>
    private async ValueTask ReceiveFirstAsync(LoadConnection connection, ConnectionSlot slot, long sentAt, CancellationToken stop)
    {
        bool whole;
        try
        {
            whole = await ReceiveAsync(connection, slot.Phase, 0, _options.MessageSize, slot.Buffer, stop);
        }
        catch (OperationCanceledException)
        {
            CountIfStalled(sentAt);
            throw;
        }

        if (!whole)
        {
            throw new EchoFailure(ErrorKind.ShortEcho);
        }
    }

    private static void Verify(int phase, long offset, ReadOnlySpan<byte> received)
    {
        if (Pattern.FindMismatch(phase, offset, received) >= 0)
        {
            throw new EchoFailure(ErrorKind.Mismatch);
        }
    }

    private void CountIfStalled(long waitingSince)
    {
        if (Stats.Stalled || Stopwatch.GetElapsedTime(waitingSince) > _options.ReplyTimeout)
        {
            Stats.RecordOverdue();
        }
    }
}
