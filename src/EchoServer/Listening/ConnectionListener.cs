using System.Net;
using System.Net.Sockets;
using EchoServer.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoServer.Listening;

/// <summary>
/// Binds the listening socket and runs the accept loop. A semaphore of <c>maxConnections</c> slots is taken
/// before each accept and given back when that connection closes, so when every slot is held the loop stops
/// accepting and new clients wait in the kernel backlog until one leaves.
/// </summary>
internal sealed class ConnectionListener : IDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    /// <summary>Descriptors kept free for the runtime when accept exhausts the process's limit.</summary>
    private const int ReservedForRuntime = 16;

    private readonly IPEndPoint _endPoint;
    private readonly int _backlog;
#pragma warning disable CA2213 // Connections still closing after Dispose release into it; it holds no wait handle.
    private readonly SemaphoreSlim _connectionSlots;
#pragma warning restore CA2213
    private readonly ILogger _logger;
    private readonly LogRateLimiter _acceptErrorLog = new(TimeSpan.FromSeconds(1));
    private readonly DescriptorReserve _reserve = new(ReservedForRuntime);
    private Socket? _socket;

    public ConnectionListener(IPEndPoint endPoint, int backlog, int maxConnections, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(backlog, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        _endPoint = endPoint;
        _backlog = backlog;
        MaxConnections = maxConnections;
        _connectionSlots = new SemaphoreSlim(maxConnections, maxConnections);
        _logger = logger;
    }

    public int MaxConnections { get; }

    /// <summary>Connection slots held now (queued plus being echoed).</summary>
    public int HeldSlots => MaxConnections - _connectionSlots.CurrentCount;

    /// <summary>The bound address, with the real port when 0 was asked for.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? throw new InvalidOperationException("Not bound yet."));

    /// <summary>How a client is accepted; tests replace it to inject faults.</summary>
    internal Func<Socket, CancellationToken, ValueTask<Socket>> Accept { get; set; } = static (s, ct) => s.AcceptAsync(ct);

    /// <summary>Binds and listens; throws <see cref="SocketException"/> when the address is taken.</summary>
    public void Bind()
    {
        var socket = new Socket(_endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (_endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // Lets a restarted server bind while old connections sit in TIME_WAIT (Unix semantics only).
            if (!OperatingSystem.IsWindows())
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            socket.Bind(_endPoint);
            socket.Listen(_backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
    }

    /// <summary>Gives back the slot of a connection that has closed.</summary>
    public void ReleaseSlot() => _connectionSlots.Release();

    /// <summary>
    /// Accepts until <paramref name="cancellationToken"/> fires or the socket is closed, handing each client
    /// (with a connection slot held for it) to <paramref name="handOff"/>. Transient accept errors are logged,
    /// rate-limited, and followed by a short back-off: the loop does not die while the server runs.
    /// </summary>
    public async Task RunAsync(Func<Socket, CancellationToken, ValueTask> handOff, CancellationToken cancellationToken)
    {
        var socket = _socket ?? throw new InvalidOperationException("Bind first.");
        var backoff = TimeSpan.Zero;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!_connectionSlots.Wait(0))
            {
                ServerLog.ConnectionLimitReached(_logger, MaxConnections);
                try
                {
                    await _connectionSlots.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
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
                _connectionSlots.Release();
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
                client = await Accept(socket, cancellationToken);
                backoff = TimeSpan.Zero;
                if (!_reserve.UnderPressure && _reserve.IsNearLimit(client.Handle))
                {
                    EnterDescriptorPressure();
                }
            }
            catch (Exception ex) when (IsStop(ex, cancellationToken))
            {
                _connectionSlots.Release();
                return;
            }
            catch (SocketException ex)
            {
                _connectionSlots.Release();
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

            await handOff(client, cancellationToken);
        }
    }

    /// <summary>Closes the listening socket: new connects are refused from here on. Slots stay countable.</summary>
    public void Dispose()
    {
        _socket?.Dispose();
        _reserve.Dispose();
    }

    private void EnterDescriptorPressure()
    {
        _reserve.Release();
        string limit = DescriptorLimit.Read()?.Soft.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown";
        ServerLog.DescriptorsExhausted(_logger, limit, ReservedForRuntime);
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
