using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace EchoServer.LoadTest;

/// <summary>
/// Drives one load run: opens the connections, runs the chosen mode on each, verifies every echoed byte,
/// and records latency per message. Every socket call is asynchronous and every buffer is allocated once
/// per connection, so the client costs as little as it can per message.
/// </summary>
internal sealed class LoadRunner
{
    private const int MaxConcurrentConnects = 256;
    private const int OpenLoopMaxInFlight = 1024;
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly LoadOptions _options;
    private readonly IPEndPoint _endPoint;
    private readonly SemaphoreSlim _connectSlots = new(MaxConcurrentConnects);

    public LoadRunner(LoadOptions options, IPEndPoint endPoint)
    {
        _options = options;
        _endPoint = endPoint;
    }

    public LoadStats Stats { get; } = new();

    /// <summary>Runs to the end (duration or message count) or until <paramref name="cancellationToken"/> fires; returns the report.</summary>
    public async Task<LoadReport> RunAsync(Action<ProgressSample>? progress, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long runStart = Stopwatch.GetTimestamp();
        bool warmingUp = _options.Warmup > TimeSpan.Zero && _options.Messages is null;
        if (!warmingUp)
        {
            Stats.StartMeasuring();
        }

        var connections = Enumerable.Range(0, _options.Connections).Select(i => RunConnectionAsync(i, QuotaOf(i), stop.Token)).ToArray();
        var all = Task.WhenAll(connections);
        long measureStart = runStart;
        if (warmingUp)
        {
            await DelayOrEnd(all, _options.Warmup, stop.Token);
            Stats.StartMeasuring();
            measureStart = Stopwatch.GetTimestamp();
        }

        var sampler = _options.ServerPid is { } pid && ServerSampler.IsSupported ? new ServerSampler(pid) : null;
        sampler?.Start();

        // The client's own cost, read the same way: a load client must cost less than the server it measures.
        var self = ServerSampler.IsSupported ? new ServerSampler(Environment.ProcessId) : null;
        self?.Start();
        using var monitor = new ProgressMonitor(Stats, _options, stop, measureStart, progress, sampler);
        var monitoring = monitor.RunAsync();
        if (_options.Messages is null)
        {
            await DelayOrEnd(all, _options.Duration, stop.Token);
        }
        else
        {
            await DelayOrEnd(all, Timeout.InfiniteTimeSpan, stop.Token);
        }

        var measured = Stopwatch.GetElapsedTime(measureStart);
        Stats.StopMeasuring();
        sampler?.Sample();
        double? serverCpu = sampler?.CpuSecondsSinceStart();
        double? clientCpu = self?.CpuSecondsSinceStart();
        await stop.CancelAsync();
        await all;
        await monitoring;
        var report = LoadReport.Create(_options, _endPoint, Stats, measured, interrupted: cancellationToken.IsCancellationRequested);
        report = clientCpu is { } cpu ? report.WithClientCost(cpu) : report;
        return sampler is null ? report : report.WithServerCost(serverCpu!.Value, sampler.PeakRssBytes);
    }

    private static async Task DelayOrEnd(Task work, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await work.WaitAsync(delay, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // The time is up or the run was stopped: either way measuring ends here.
        }
    }

    private long QuotaOf(int connection)
    {
        if (_options.Messages is not { } total)
        {
            return long.MaxValue;
        }

        return (total / _options.Connections) + (connection < total % _options.Connections ? 1 : 0);
    }

    /// <summary>
    /// Keeps one connection's worth of load for the whole run: after an error (counted) it connects again, at
    /// once if the last connection made progress, otherwise after a back-off that doubles from
    /// <see cref="MinBackoff"/> to <see cref="MaxBackoff"/>, so that a refusing server is not hammered in a spin.
    /// </summary>
    private async Task RunConnectionAsync(int index, long quota, CancellationToken stop)
    {
        await Task.Yield();
        var slot = new ConnectionSlot(index, quota, _options.MessageSize);
        var backoff = TimeSpan.Zero;
        while (slot.Remaining > 0 && !stop.IsCancellationRequested)
        {
            long before = slot.Remaining;
            var error = await RunOnceAsync(slot, stop);
            if (slot.ClosedByServer)
            {
                // A clean close between messages: nothing was lost, so connect again at once and go on.
                slot.ClosedByServer = false;
                Stats.RecordServerClose();
                backoff = TimeSpan.Zero;
                continue;
            }

            if (error is not { } kind)
            {
                return;
            }

            Stats.RecordError(kind);
            bool progressed = slot.Remaining < before || slot.Progressed;
            slot.Progressed = false;
            backoff = progressed ? TimeSpan.Zero : backoff == TimeSpan.Zero ? MinBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            if (backoff > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(backoff, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One connection (one cycle of them in connect mode) until the run ends or it fails; returns the error, if any.</summary>
    private async Task<ErrorKind?> RunOnceAsync(ConnectionSlot slot, CancellationToken stop)
    {
        try
        {
            switch (_options.Mode)
            {
                case LoadMode.Connect:
                    await ConnectLoopAsync(slot, stop);
                    break;
                case LoadMode.Hold:
                    await HoldAsync(slot, stop);
                    break;
                default:
                    await EchoAsync(slot, stop);
                    break;
            }

            return null;
        }
        catch (EchoFailure failure)
        {
            return failure.Kind;
        }
        catch (SocketException ex) when (!stop.IsCancellationRequested)
        {
            return ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown ? ErrorKind.Reset : ErrorKind.Other;
        }
        catch (Exception ex) when (stop.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Torn down at the end of the run.
            return null;
        }
    }

    private async Task EchoAsync(ConnectionSlot slot, CancellationToken stop)
    {
        using var socket = await ConnectAsync(stop);
        if (_options.Pipeline == 1 && _options.Rate is null)
        {
            await PingPongAsync(socket, slot, stop);
        }
        else
        {
            await PipelinedAsync(socket, slot, stop);
        }
    }

    private async Task PingPongAsync(Socket socket, ConnectionSlot slot, CancellationToken stop)
    {
        int size = _options.MessageSize;
        long offset = 0;
        while (slot.Remaining > 0 && !stop.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await SendAsync(socket, slot.Phase, offset, size, stop);
                if (!await ReceiveAsync(socket, slot.Phase, offset, size, slot.Buffer, stop))
                {
                    // Closed before any byte of this reply: a clean close if this connection echoed before.
                    slot.ClosedByServer = offset > 0 ? true : throw new EchoFailure(ErrorKind.ShortEcho);
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                CountIfStalled(start);
                throw;
            }

            Stats.RecordMessage(start, Stopwatch.GetTimestamp(), size, ref slot.Answered);
            Stats.RecordReply(ref slot.Replied);
            slot.Remaining--;
            offset += size;
        }
    }

    /// <summary>
    /// Sender and receiver run apart: the sender keeps up to <c>pipeline</c> messages in flight (closed loop) or
    /// sends on a fixed schedule (open loop, <c>--rate</c>), stamping each message with when it was due, so that
    /// a slow reply delays the measurement of every message behind it (no coordinated omission).
    /// </summary>
    private async Task PipelinedAsync(Socket socket, ConnectionSlot slot, CancellationToken stop)
    {
        int inFlight = _options.Rate is null ? _options.Pipeline : Math.Max(_options.Pipeline, OpenLoopMaxInFlight);
        var due = new long[inFlight];
        var credits = new CreditGate(inFlight);
        var counts = new PipelineCounts();
        long quota = slot.Remaining;

        // Ends the sender with this connection, whether the run ended or the connection failed.
        using var connectionEnd = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var registration = connectionEnd.Token.Register(static g => ((CreditGate)g!).Open(), credits);
        var sender = SendScheduleAsync(socket, slot.Phase, due, credits, quota, counts, connectionEnd.Token);
        int size = _options.MessageSize;
        long offset = 0;
        int partial = 0;
        try
        {
            while (counts.Received < quota)
            {
                int n = await socket.ReceiveAsync(slot.Buffer, SocketFlags.None, stop);
                if (n == 0)
                {
                    // Between whole replies, after at least one: a clean close; the unanswered ones go again on a new connection.
                    slot.ClosedByServer = partial == 0 && counts.Received > 0 ? true : throw new EchoFailure(ErrorKind.ShortEcho);
                    return;
                }

                Verify(slot.Phase, offset, slot.Buffer.AsSpan(0, n));
                offset += n;
                partial += n;
                long now = Stopwatch.GetTimestamp();
                while (partial >= size)
                {
                    partial -= size;
                    Stats.RecordMessage(due[counts.Received % inFlight], now, size, ref slot.Answered);
                    Volatile.Write(ref counts.Received, counts.Received + 1);
                    slot.Remaining--;
                    credits.Release();
                }

                if (counts.Received > 0)
                {
                    Stats.RecordReply(ref slot.Replied);
                }
            }
        }
        catch (OperationCanceledException)
        {
            if (counts.Received < Volatile.Read(ref counts.Queued))
            {
                CountIfStalled(due[counts.Received % inFlight]);
            }

            throw;
        }
        finally
        {
            await connectionEnd.CancelAsync();
            await sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task SendScheduleAsync(Socket socket, int phase, long[] due, CreditGate credits, long quota, PipelineCounts counts, CancellationToken stop)
    {
        await Task.Yield();
        int size = _options.MessageSize;
        long interval = _options.Rate is { } rate ? (long)(Stopwatch.Frequency * _options.Connections / rate) : 0;
        using var timer = interval > 0 ? new PeriodicTimer(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, interval * TimeSpan.TicksPerSecond / Stopwatch.Frequency))) : null;
        long next = Stopwatch.GetTimestamp();
        long offset = 0;
        for (long sent = 0; sent < quota;)
        {
            if (timer is not null && next > Stopwatch.GetTimestamp())
            {
                if (!await timer.WaitForNextTickAsync(stop))
                {
                    return;
                }

                continue;
            }

            var credit = credits.WaitAsync();
            bool heldBack = !credit.IsCompleted;
            await credit;
            if (stop.IsCancellationRequested)
            {
                return;
            }

            // Open loop: a message held back by unanswered ones counts from when it was due (so a slow server
            // cannot hide its stalls); one merely woken late by the timer counts from when it really left.
            due[sent % due.Length] = timer is not null && heldBack ? next : Stopwatch.GetTimestamp();
            Volatile.Write(ref counts.Queued, sent + 1);
            Stats.RecordInFlight(sent + 1 - Volatile.Read(ref counts.Received));
            await SendAsync(socket, phase, offset, size, stop);
            offset += size;
            sent++;
            next += interval;
        }
    }

    private async Task ConnectLoopAsync(ConnectionSlot slot, CancellationToken stop)
    {
        while (slot.Remaining > 0 && !stop.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            using (var socket = await ConnectAsync(stop))
            {
                await SendAsync(socket, slot.Phase, 0, _options.MessageSize, stop);
                await ReceiveFirstAsync(socket, slot, start, stop);
            }

            Stats.RecordMessage(start, Stopwatch.GetTimestamp(), _options.MessageSize);
            Stats.RecordReply(ref slot.Replied);
            Stats.RecordConnect();
            slot.Remaining--;
        }
    }

    private async Task HoldAsync(ConnectionSlot slot, CancellationToken stop)
    {
        long start = Stopwatch.GetTimestamp();
        using var socket = await ConnectAsync(stop);
        await SendAsync(socket, slot.Phase, 0, _options.MessageSize, stop);
        await ReceiveFirstAsync(socket, slot, start, stop);
        Stats.RecordMessage(start, Stopwatch.GetTimestamp(), _options.MessageSize, ref slot.Answered);
        Stats.RecordReply(ref slot.Replied);
        Stats.RecordConnect();
        slot.Progressed = true;

        // Held open and quiet until the run ends; a server that drops it is noticed (and it is opened again).
        Stats.RecordHeld(1);
        int n;
        try
        {
            n = await socket.ReceiveAsync(slot.Buffer, SocketFlags.None, stop);
        }
        catch (Exception) when (!stop.IsCancellationRequested)
        {
            Stats.RecordHeld(-1);
            throw;
        }

        Stats.RecordHeld(-1);

        // A FIN while held owes nothing: a clean close (a draining server), and the connection is opened again.
        slot.ClosedByServer = n == 0 ? true : throw new EchoFailure(ErrorKind.Mismatch);
    }

    private async Task<Socket> ConnectAsync(CancellationToken stop)
    {
        var socket = new Socket(_endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await _connectSlots.WaitAsync(stop);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(_endPoint, timeout.Token);
            return socket;
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            socket.Dispose();
            throw new EchoFailure(ErrorKind.ConnectTimeout);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            socket.Dispose();
            throw new EchoFailure(ErrorKind.ConnectRefused);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        finally
        {
            _connectSlots.Release();
        }
    }

    // Pooled state machines: these suspend on most messages, and each suspension would otherwise allocate one.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendAsync(Socket socket, int phase, long offset, int size, CancellationToken stop)
    {
        for (int sent = 0; sent < size;)
        {
            sent += await socket.SendAsync(Pattern.Slice(phase, offset + sent, size - sent), SocketFlags.None, stop);
        }
    }

    /// <summary>Receives and verifies one whole reply; false when the connection closed before its first byte, short-echo when in its middle.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> ReceiveAsync(Socket socket, int phase, long offset, int size, byte[] buffer, CancellationToken stop)
    {
        for (int received = 0; received < size;)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, size - received)), SocketFlags.None, stop);
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
    private async ValueTask ReceiveFirstAsync(Socket socket, ConnectionSlot slot, long sentAt, CancellationToken stop)
    {
        bool whole;
        try
        {
            whole = await ReceiveAsync(socket, slot.Phase, 0, _options.MessageSize, slot.Buffer, stop);
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

    /// <summary>One of the <c>--connections</c> slots: what it still has to send, and what it keeps across reconnects.</summary>
    private sealed class ConnectionSlot(int index, long quota, int messageSize)
    {
        public readonly int Phase = Pattern.PhaseOf(index);

        public long Remaining = quota;

        /// <summary>Whether any connection of this slot got an echo (counted once per slot).</summary>
        public bool Answered;

        /// <summary>Whether any connection of this slot got a reply at any time, warm-up included: a slot never answered is a failure of its own.</summary>
        public bool Replied;

        /// <summary>Set by a mode that made progress without using up messages (hold), so that its reconnect is immediate.</summary>
        public bool Progressed;

        /// <summary>Set when the server closed the connection cleanly between messages: not an error; the slot connects again.</summary>
        public bool ClosedByServer;

        /// <summary>The receive buffer, allocated once for the whole run.</summary>
        public readonly byte[] Buffer = new byte[Math.Min(Math.Max(messageSize, 4096), 256 * 1024)];
    }

    /// <summary>Messages the sender has queued and the receiver has seen echoed, on one pipelined connection.</summary>
    private sealed class PipelineCounts
    {
        public long Queued;
        public long Received;
    }
}
