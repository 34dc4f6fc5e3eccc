using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using EchoServer.Connections;
using EchoServer.Echo;

namespace EchoServer.Faults;

/// <summary>
/// A faulted connection's bytes, shaped as <see cref="FaultSettings"/> asks, under the echo loop
/// (<see cref="StreamEchoLoop"/>). Every wait happens before data is handed to the loop: in the executor in the
/// zero-byte read that the session waits in holding no slot and no buffer (a timer, not a parked slot); in the
/// worker pool in the blocking read, on the worker, as thread-per-client does. The stall and the bandwidth wait
/// before reading at all, so that the client's bytes stay in the kernel and its send window fills; the delay
/// waits once the data is there. Pieces are separate writes; with a delay, each piece after the first waits
/// it too. The end (close-after, reset-after) comes once the byte that reaches it was echoed.
/// </summary>
internal sealed partial class FaultStream : Stream, ISendShutdown
{
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(1);

    private readonly Stream _inner;
    private readonly FaultSettings _settings;
    private readonly Random _random;
    private readonly ClientConnection _connection;
    private readonly int _quantum;
    private long _written;
    private long _nextReadAt;
    private bool _held;
    private bool _stalled;
    private bool _ended;

    /// <param name="inner">The stream under it: TLS, or the bare socket's.</param>
    /// <param name="settings">The faults.</param>
    /// <param name="random">This connection's random choices (the jitter).</param>
    /// <param name="connection">The connection: its stop, its socket (the reset), its stop token (every wait watches it).</param>
    public FaultStream(Stream inner, FaultSettings settings, Random random, ClientConnection connection)
    {
        _inner = inner;
        _settings = settings;
        _random = random;
        _connection = connection;

        // Twenty reads a second at most under a bandwidth limit: the rate holds within a twentieth of a second.
        _quantum = (int)Math.Clamp(settings.Bandwidth / 20, 1, int.MaxValue);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (Ended())
        {
            return 0;
        }

        Wait(BeforeRead());
        int received = _inner.Read(buffer, offset, Limit(count));
        if (received > 0)
        {
            Wait(EchoDelay());
        }

        Charge(received);
        return received;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        int chunk = _settings.Chunk > 0 ? _settings.Chunk : Math.Max(count, 1);
        for (int sent = 0; sent < count; sent += chunk)
        {
            if (sent > 0)
            {
                Wait(EchoDelay());
            }

            _inner.Write(buffer, offset + sent, Math.Min(chunk, count - sent));
            _inner.Flush();
        }

        if (Echoed(count))
        {
            for (long start = Stopwatch.GetTimestamp(); Draining(start);)
            {
                Thread.Sleep(DrainPoll);
            }

            Reset();
        }
    }

    public override void Flush() => _inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Ends our side as the stream under it must (TLS's close_notify) before the loop's FIN.</summary>
    public async ValueTask ShutdownSendAsync()
    {
        if (_inner is ISendShutdown shutdown)
        {
            await shutdown.ShutdownSendAsync().ConfigureAwait(false);
        }
        else if (_inner is SslStream tls)
        {
            await tls.ShutdownAsync().ConfigureAwait(false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>True once close-after or reset-after ended the connection: close-after stops it here, after its last byte was echoed.</summary>
    private bool Ended()
    {
        if (!_ended && _settings.CloseAfter > 0 && _written >= _settings.CloseAfter)
        {
            _ended = true;
            _connection.Stop(CloseReason.Fault); // the loop sees the stop and the close sends our FIN after what was echoed
        }

        return _ended;
    }

    /// <summary>The wait before reading: the stall, once, when its byte count is reached; the bandwidth's next turn.</summary>
    private TimeSpan BeforeRead()
    {
        var wait = TimeSpan.Zero;
        if (_settings.StallAfter > 0 && !_stalled && _written >= _settings.StallAfter)
        {
            _stalled = true;
            wait = _settings.StallFor;
        }

        if (_settings.Bandwidth > 0 && _nextReadAt > Stopwatch.GetTimestamp())
        {
            var due = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _nextReadAt);
            wait = wait > due ? wait : due;
        }

        return wait;
    }

    /// <summary>The delay of one echo: the fixed part and a random share of the jitter.</summary>
    private TimeSpan EchoDelay() =>
        _settings.Jitter > TimeSpan.Zero ? _settings.Delay + (_settings.Jitter * _random.NextDouble()) : _settings.Delay;

    /// <summary>How much one read may take: a bandwidth quantum, and never past the stall's or the end's byte count.</summary>
    private int Limit(int count)
    {
        long limit = count;
        if (_settings.Bandwidth > 0)
        {
            limit = Math.Min(limit, _quantum);
        }

        if (_settings.StallAfter > 0 && !_stalled && _written < _settings.StallAfter)
        {
            limit = Math.Min(limit, _settings.StallAfter - _written);
        }

        if (EndAfter is > 0 and var end && _written < end)
        {
            limit = Math.Min(limit, end - _written);
        }

        return (int)Math.Max(limit, 1);
    }

    private long EndAfter => _settings.CloseAfter > 0 ? _settings.CloseAfter : _settings.ResetAfter;

    /// <summary>Books a read against the bandwidth: the next one may come once these bytes' share of a second has passed.</summary>
    private void Charge(int received)
    {
        if (_settings.Bandwidth > 0 && received > 0)
        {
            long now = Stopwatch.GetTimestamp();
            _nextReadAt = Math.Max(_nextReadAt, now) + (long)((double)received * Stopwatch.Frequency / _settings.Bandwidth);
        }
    }

    /// <summary>Counts an echo; true when it reached reset-after, which then resets the connection.</summary>
    private bool Echoed(int count)
    {
        _written += count;
        return !_ended && _settings.ResetAfter > 0 && _written >= _settings.ResetAfter;
    }

    /// <summary>Waits on the calling worker, woken early by a stop.</summary>
    private void Wait(TimeSpan wait)
    {
        // The wait handle may wake a tick early (it counts coarser time than the stopwatch): never shorter than asked.
        long start = Stopwatch.GetTimestamp();
        for (var left = wait; left > TimeSpan.Zero && !_connection.Stopping.IsCancellationRequested; left = wait - Stopwatch.GetElapsedTime(start))
        {
            _connection.Stopping.WaitHandle.WaitOne(left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left);
        }
    }

    /// <summary>
    /// True while the client has not acknowledged everything sent (Linux's send queue), for a bounded time since
    /// <paramref name="start"/>: a reset discards what is still queued, and reset-after promises its bytes first.
    /// </summary>
    private bool Draining(long start) =>
        SendQueue.Unsent(_connection.Socket) is > 0 && Stopwatch.GetElapsedTime(start) < DrainLimit && !_connection.Progress.StopRequested;

    /// <summary>A reset, now: linger zero makes the close send RST instead of FIN.</summary>
    private void Reset()
    {
        _ended = true;
        try
        {
            _connection.Socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Gone already: nothing left to reset.
        }

        _connection.Abort(CloseReason.Fault);
    }
}
