using System.Net;
using System.Net.Sockets;
using EchoServer.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoServer.Listening;

/// <summary>
/// Binds the listening socket and runs the accept loop. A permit of <c>--max-connections</c> is taken before
/// each accept and given back when that connection closes, so when every permit is held the loop stops
/// accepting and new clients wait in the kernel backlog until one leaves.
/// </summary>
internal sealed class ConnectionListener : IDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    /// <summary>Descriptors kept free for the runtime when accept exhausts the process's limit.</summary>
    private const int ReservedForRuntime = 16;

    private readonly IPEndPoint _endPoint;
    private readonly int _backlog;
    private readonly bool _reusePort;
    private readonly ConnectionPermits _permits;
    private readonly ISocketAcceptor _acceptor;
    private readonly ILogger _logger;
    private readonly LogRateLimiter _acceptErrorLog = new(TimeSpan.FromSeconds(1));
    private readonly LogRateLimiter _limitLog = new(TimeSpan.FromSeconds(10));
    private readonly DescriptorReserve _reserve = new(ReservedForRuntime);
    private Socket? _socket;
    private int _reserveOwners = 1;
    private int _disposed;
    private volatile bool _closed;

    /// <param name="endPoint">Where to listen.</param>
    /// <param name="backlog">The kernel's listen backlog.</param>
    /// <param name="permits">The connection limit: one permit is held for each client from before its accept to its close.</param>
    /// <param name="acceptor">Takes each client from the listening socket.</param>
    /// <param name="logger">The connection log.</param>
    /// <param name="reusePort">Share the port with other processes (SO_REUSEPORT).</param>
    public ConnectionListener(IPEndPoint endPoint, int backlog, ConnectionPermits permits, ISocketAcceptor acceptor, ILogger logger, bool reusePort = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(backlog, 1);
        _endPoint = endPoint;
        _backlog = backlog;
        _reusePort = reusePort;
        _permits = permits;
        _acceptor = acceptor;
        _logger = logger;
    }

    /// <summary>The bound address, with the real port when 0 was asked for.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? throw new InvalidOperationException("Not bound yet."));

    /// <summary>Binds and listens; throws <see cref="SocketException"/> when the address is taken.</summary>
    public void Bind() => _socket = ListenSocket.Bind(_endPoint, _backlog, _reusePort);

    /// <summary>
    /// Accepts until <paramref name="cancellationToken"/> fires or the socket is closed, handing each client
    /// (with a permit held for it) to <paramref name="handOff"/>. Transient accept errors are logged,
    /// rate-limited, and followed by a short back-off: the loop does not die while the server runs.
    /// </summary>
    public async Task RunAsync(Func<Socket, CancellationToken, ValueTask> handOff, CancellationToken cancellationToken)
    {
        var socket = _socket ?? throw new InvalidOperationException("Bind first.");
        Interlocked.Increment(ref _reserveOwners);
        try
        {
            await AcceptLoopAsync(socket, handOff, cancellationToken);
        }
        finally
        {
            ReleaseReserve();
        }
    }

    /// <summary>Closes the listening socket: new connects are refused from here on, and the accept loop ends.</summary>
    public void Close()
    {
        _closed = true; // read by the accept loop: an accept the close aborts means stop, not a failure to log
        _socket?.Dispose();
    }

    /// <summary>Closes the listening socket; the descriptor reserve goes once the accept loop, if running, has ended.</summary>
    public void Dispose()
    {
        Close();
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            ReleaseReserve();
        }
    }

    private void ReleaseReserve()
    {
        if (Interlocked.Decrement(ref _reserveOwners) == 0)
        {
            _reserve.Dispose();
        }
    }

    private async Task AcceptLoopAsync(Socket socket, Func<Socket, CancellationToken, ValueTask> handOff, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.Zero;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!_permits.TryTake() && !await WaitForPermitAsync(socket, cancellationToken))
            {
                return;
            }

            bool wasUnderPressure = _reserve.UnderPressure;
            bool mayAccept = _reserve.MayAccept();
            if (wasUnderPressure && !_reserve.UnderPressure)
            {
                ServerLog.DescriptorsRecovered(_logger);
            }

            if (!mayAccept)
            {
                // Out of descriptors but for the reserve: clients wait in the backlog until some are freed.
                _permits.Release();
                backoff = NextBackoff(backoff, SocketError.TooManyOpenSockets);
                if (!await DelayAsync(backoff, cancellationToken))
                {
                    return;
                }

                continue;
            }

            Socket client;
            try
            {
                client = await _acceptor.AcceptAsync(socket, cancellationToken);
                backoff = TimeSpan.Zero;
                if (!_reserve.UnderPressure && _reserve.IsNearLimit(client.Handle))
                {
                    EnterDescriptorPressure();
                }
            }
            catch (Exception ex) when (IsStop(ex, cancellationToken) || _closed)
            {
                _permits.Release();
                return;
            }
            catch (SocketException ex)
            {
                _permits.Release();
                if (ex.SocketErrorCode == SocketError.TooManyOpenSockets && !_reserve.UnderPressure)
                {
                    EnterDescriptorPressure();
                }

                backoff = NextBackoff(backoff, ex.SocketErrorCode);
                if (_acceptErrorLog.TryAcquire(out long suppressed))
                {
                    ServerLog.AcceptFailed(_logger, ex.SocketErrorCode, (int)backoff.TotalMilliseconds, suppressed);
                }

                if (backoff > TimeSpan.Zero && !await DelayAsync(backoff, cancellationToken))
                {
                    return;
                }

                continue;
            }

            try
            {
                await handOff(client, cancellationToken);
            }
#pragma warning disable CA1031 // A fault in one hand-off must not stop accepting: it is logged, the loop goes on.
            catch (Exception ex) when (!IsStop(ex, cancellationToken))
#pragma warning restore CA1031
            {
                ServerLog.HandOffFailed(_logger, ex);
            }
            catch (Exception ex) when (IsStop(ex, cancellationToken))
            {
                return;
            }
        }
    }

    // Every permit is held: warn (rate-limited) with how many clients queue in the kernel, and say when it ends.
    private async ValueTask<bool> WaitForPermitAsync(Socket socket, CancellationToken cancellationToken)
    {
        long pausedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        bool warned = _limitLog.TryAcquire(out long suppressed);
        if (warned)
        {
            string backlog = ListenSocket.Backlog(socket)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown";
            ServerLog.ConnectionLimitReached(_logger, _permits.Limit, backlog, suppressed);
        }

        try
        {
            await _permits.TakeAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        if (warned)
        {
            ServerLog.AcceptingResumed(_logger, System.Diagnostics.Stopwatch.GetElapsedTime(pausedAt).TotalSeconds);
        }

        return true;
    }

    private void EnterDescriptorPressure()
    {
        _reserve.Release();
        ServerLog.DescriptorsExhausted(_logger, DescriptorLimit.Read()?.Soft, ReservedForRuntime);
    }

    private static bool IsStop(Exception ex, CancellationToken cancellationToken) =>
        ex is OperationCanceledException or ObjectDisposedException
        || (ex is SocketException && cancellationToken.IsCancellationRequested);

    // A client that gave up before we accepted it needs no pause; running out of descriptors or buffers does.
    private static TimeSpan NextBackoff(TimeSpan current, SocketError error)
    {
        if (error == SocketError.ConnectionAborted)
        {
            return TimeSpan.Zero;
        }

        var next = current == TimeSpan.Zero ? TimeSpan.FromMilliseconds(10) : current * 2;
        return next > MaxBackoff ? MaxBackoff : next;
    }

    private static async ValueTask<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
