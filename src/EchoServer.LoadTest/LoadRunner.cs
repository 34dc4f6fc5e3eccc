using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

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
        await stop.CancelAsync();
        await all;
        await monitoring;
        var report = LoadReport.Create(_options, _endPoint, Stats, measured, interrupted: cancellationToken.IsCancellationRequested);
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

    private async Task RunConnectionAsync(int index, long quota, CancellationToken stop)
    {
        await Task.Yield();
        try
        {
            switch (_options.Mode)
            {
                case LoadMode.Connect:
                    await ConnectLoopAsync(index, quota, stop);
                    break;
                case LoadMode.Hold:
                    await HoldAsync(index, stop);
                    break;
                default:
                    await EchoAsync(index, quota, stop);
                    break;
            }
        }
        catch (EchoFailure failure)
        {
            Stats.RecordError(failure.Kind);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run ended.
        }
        catch (SocketException ex) when (!stop.IsCancellationRequested)
        {
            Stats.RecordError(ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown ? ErrorKind.Reset : ErrorKind.Other);
        }
        catch (Exception ex) when (stop.IsCancellationRequested && ex is SocketException or ObjectDisposedException)
        {
            // Torn down at the end of the run.
        }
    }

    private async Task EchoAsync(int index, long quota, CancellationToken stop)
    {
        using var socket = await ConnectAsync(stop);
        var buffer = new byte[Math.Min(Math.Max(_options.MessageSize, 4096), 256 * 1024)];
        int phase = Pattern.PhaseOf(index);
        if (_options.Pipeline == 1 && _options.Rate is null)
        {
            await PingPongAsync(socket, phase, buffer, quota, stop);
        }
        else
        {
            await PipelinedAsync(socket, phase, buffer, quota, stop);
        }
    }

    private async Task PingPongAsync(Socket socket, int phase, byte[] buffer, long quota, CancellationToken stop)
    {
        int size = _options.MessageSize;
        long offset = 0;
        bool answered = false;
        for (long sent = 0; sent < quota && !stop.IsCancellationRequested; sent++)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await SendAsync(socket, phase, offset, size, stop);
                await ReceiveAsync(socket, phase, offset, size, buffer, stop);
            }
            catch (OperationCanceledException)
            {
                CountIfStalled(start);
                throw;
            }

            Stats.RecordMessage(start, Stopwatch.GetTimestamp(), size, ref answered);
            offset += size;
        }
    }

    /// <summary>
    /// Sender and receiver run apart: the sender keeps up to <c>pipeline</c> messages in flight (closed loop) or
    /// sends on a fixed schedule (open loop, <c>--rate</c>), stamping each message with when it was due, so that
    /// a slow reply delays the measurement of every message behind it (no coordinated omission).
    /// </summary>
    private async Task PipelinedAsync(Socket socket, int phase, byte[] buffer, long quota, CancellationToken stop)
    {
        int inFlight = _options.Rate is null ? _options.Pipeline : Math.Max(_options.Pipeline, OpenLoopMaxInFlight);
        var due = new long[inFlight];
        var credits = new CreditGate(inFlight);
        long queued = 0;
        using var registration = stop.Register(static g => ((CreditGate)g!).Open(), credits);

        var sender = SendScheduleAsync(socket, phase, due, credits, quota, () => Volatile.Write(ref queued, queued + 1), stop);
        int size = _options.MessageSize;
        long received = 0;
        long offset = 0;
        int partial = 0;
        bool answered = false;
        try
        {
            while (received < quota)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, stop);
                if (n == 0)
                {
                    throw new EchoFailure(ErrorKind.ShortEcho);
                }

                Verify(phase, offset, buffer.AsSpan(0, n));
                offset += n;
                partial += n;
                long now = Stopwatch.GetTimestamp();
                while (partial >= size)
                {
                    partial -= size;
                    Stats.RecordMessage(due[received % inFlight], now, size, ref answered);
                    received++;
                    credits.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            if (received < Volatile.Read(ref queued))
            {
                CountIfStalled(due[received % inFlight]);
            }

            throw;
        }
        finally
        {
            credits.Open();
            await sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task SendScheduleAsync(Socket socket, int phase, long[] due, CreditGate credits, long quota, Action onQueued, CancellationToken stop)
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
            onQueued();
            await SendAsync(socket, phase, offset, size, stop);
            offset += size;
            sent++;
            next += interval;
        }
    }

    private async Task ConnectLoopAsync(int index, long quota, CancellationToken stop)
    {
        var buffer = new byte[Math.Min(Math.Max(_options.MessageSize, 4096), 256 * 1024)];
        int phase = Pattern.PhaseOf(index);
        for (long done = 0; done < quota && !stop.IsCancellationRequested; done++)
        {
            long start = Stopwatch.GetTimestamp();
            using (var socket = await ConnectAsync(stop))
            {
                await SendAsync(socket, phase, 0, _options.MessageSize, stop);
                await ReceiveAsync(socket, phase, 0, _options.MessageSize, buffer, stop);
            }

            Stats.RecordMessage(start, Stopwatch.GetTimestamp(), _options.MessageSize);
            Stats.RecordConnect();
        }
    }

    private async Task HoldAsync(int index, CancellationToken stop)
    {
        var buffer = new byte[Math.Max(_options.MessageSize, 1)];
        int phase = Pattern.PhaseOf(index);
        long start = Stopwatch.GetTimestamp();
        using var socket = await ConnectAsync(stop);
        await SendAsync(socket, phase, 0, _options.MessageSize, stop);
        await ReceiveAsync(socket, phase, 0, _options.MessageSize, buffer, stop);
        bool answered = false;
        Stats.RecordMessage(start, Stopwatch.GetTimestamp(), _options.MessageSize, ref answered);
        Stats.RecordConnect();

        // Held open and quiet until the run ends; a server that drops it is noticed.
        int n = await socket.ReceiveAsync(buffer, SocketFlags.None, stop);
        throw new EchoFailure(n == 0 ? ErrorKind.ShortEcho : ErrorKind.Mismatch);
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

    private static async ValueTask SendAsync(Socket socket, int phase, long offset, int size, CancellationToken stop)
    {
        for (int sent = 0; sent < size;)
        {
            sent += await socket.SendAsync(Pattern.Slice(phase, offset + sent, size - sent), SocketFlags.None, stop);
        }
    }

    private static async ValueTask ReceiveAsync(Socket socket, int phase, long offset, int size, byte[] buffer, CancellationToken stop)
    {
        for (int received = 0; received < size;)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, size - received)), SocketFlags.None, stop);
            if (n == 0)
            {
                throw new EchoFailure(ErrorKind.ShortEcho);
            }

            Verify(phase, offset + received, buffer.AsSpan(0, n));
            received += n;
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
        if (Stopwatch.GetElapsedTime(waitingSince) > _options.ReplyTimeout)
        {
            Stats.RecordError(ErrorKind.ReplyTimeout);
        }
    }
}
