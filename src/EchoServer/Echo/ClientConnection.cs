using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoServer.Diagnostics;

namespace EchoServer.Echo;

/// <summary>
/// One accepted client from accept to close: its socket, its counters, and an idempotent close that
/// reports the connection exactly once to whoever tracks connections.
/// </summary>
internal sealed class ClientConnection
{
    private readonly Action<ClientConnection> _onClosed;
    private readonly ServerMetrics? _metrics;
    private CancellationTokenSource? _abort;
    private CloseReason? _abortReason;
    private long _waitingSince;
    private int _waitingFor;
    private long _bytesIn;
    private long _bytesOut;
    private int _closed;

    public ClientConnection(long id, Socket socket, Action<ClientConnection> onClosed, ServerMetrics? metrics = null)
    {
        _metrics = metrics;
        Id = id;
        Socket = socket;
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint;
        AcceptedAt = Stopwatch.GetTimestamp();
        _onClosed = onClosed;
    }

    public long Id { get; }

    public Socket Socket { get; }

    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>Stopwatch timestamp of accept.</summary>
    public long AcceptedAt { get; }

    /// <summary>Stopwatch timestamp of the moment a worker took it; 0 while queued or if never served.</summary>
    public long StartedAt { get; private set; }

    /// <summary>Name of the worker that served it, or null if none did.</summary>
    public string? Worker { get; private set; }

    public long BytesIn => Volatile.Read(ref _bytesIn);

    public long BytesOut => Volatile.Read(ref _bytesOut);

    public CloseReason Reason { get; private set; }

    /// <summary>True when the per-address limiter counted this connection (and must be told when it closes).</summary>
    public bool HoldsAddressSlot { get; set; }

    /// <summary>Set once <see cref="Abort"/> was called: the reason the session should end with.</summary>
    public CloseReason? AbortReason => _abortReason;

    /// <summary>Cancelled by <see cref="Abort"/>; asynchronous sessions pass it to every socket call.</summary>
    public CancellationToken Aborted
    {
        get
        {
            if (_abort is null)
            {
                var created = new CancellationTokenSource();
                if (Interlocked.CompareExchange(ref _abort, created, null) is not null)
                {
                    created.Dispose();
                }
                else if (_abortReason is not null)
                {
                    created.Cancel();
                }
            }

            return _abort!.Token;
        }
    }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public TimeSpan QueuedFor => StartedAt == 0 ? Stopwatch.GetElapsedTime(AcceptedAt) : Stopwatch.GetElapsedTime(AcceptedAt, StartedAt);

    public TimeSpan Age => Stopwatch.GetElapsedTime(AcceptedAt);

    /// <summary>What the session is blocked on now, and since when (read by the watchdog).</summary>
    public (SessionWait Kind, long Since) Waiting
    {
        get
        {
            // Kind is written last and read first, so a fresh kind always comes with its own timestamp.
            var kind = (SessionWait)Volatile.Read(ref _waitingFor);
            return (kind, Volatile.Read(ref _waitingSince));
        }
    }

    /// <summary>Marks the start of a wait for the client's bytes (idle-timeout applies).</summary>
    public void WaitingToReceive() => SetWaiting(SessionWait.Receive);

    /// <summary>Marks the start of a wait for the client to take our bytes (send-timeout applies).</summary>
    public void WaitingToSend() => SetWaiting(SessionWait.Send);

    public void MarkStarted(string worker)
    {
        Worker = worker;
        StartedAt = Stopwatch.GetTimestamp();
        _metrics?.Started(QueuedFor);
    }

    // Each counter has one writer (the session); readers elsewhere only need a recent value.
    public void AddBytesIn(int count) => Volatile.Write(ref _bytesIn, _bytesIn + count);

    public void AddBytesOut(int count) => Volatile.Write(ref _bytesOut, _bytesOut + count);

    private void SetWaiting(SessionWait kind)
    {
        Volatile.Write(ref _waitingSince, Stopwatch.GetTimestamp());
        Volatile.Write(ref _waitingFor, (int)kind);
    }

    /// <summary>
    /// Ends the session from outside (shutdown, timeouts): cancels its token and closes the socket, which
    /// wakes a worker blocked in a receive or send. The session then closes with <paramref name="reason"/>.
    /// </summary>
    public void Abort(CloseReason reason)
    {
        if (IsClosed)
        {
            return;
        }

        _abortReason ??= reason;
        try
        {
            _abort?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile.
        }

        Socket.Dispose();
    }

    /// <summary>Closes the socket and reports the connection, once; later calls do nothing.</summary>
    public void Close(CloseReason reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        Reason = _abortReason ?? reason;
        Socket.Dispose();
        _abort?.Dispose();
        _onClosed(this);
    }
}
