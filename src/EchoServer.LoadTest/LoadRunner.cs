using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EchoServer.LoadTest;

/// <summary>
/// Drives one load run: opens the connections, runs the chosen mode on each, verifies every echoed byte,
/// and records latency per message. Every socket call is asynchronous and every buffer is allocated once
/// per connection, so the client costs as little as it can per message.
/// </summary>
internal sealed partial class LoadRunner
{
    private const int MaxConcurrentConnects = 256;
    private const int OpenLoopMaxInFlight = 1024;
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly LoadOptions _options;
    private readonly IPEndPoint _endPoint;
    private readonly SemaphoreSlim _connectSlots = new(MaxConcurrentConnects);
    private readonly TlsClient? _tls;
    private readonly TaskCompletionSource _allTried = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _untried;

    /// <summary>Reads the TLS files <paramref name="options"/> names, if any: a <see cref="TlsSetupException"/> says what is wrong with one.</summary>
    public LoadRunner(LoadOptions options, IPEndPoint endPoint)
    {
        _options = options;
        _endPoint = endPoint;
        _tls = options.Tls is { } tls ? TlsClient.Create(tls, options.Host) : null;
        _untried = options.Connections;
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
        long allocatedAtStart = GC.GetTotalAllocatedBytes();
        if (warmingUp)
        {
            // Thousands of connections open MaxConcurrentConnects at a time: the warm-up, then the measurement, starts
            // once each has connected (or failed its first try), not in the middle of the connect storm.
            if (!_options.Udp)
            {
                await DelayOrEnd(Task.WhenAny(_allTried.Task, all), Timeout.InfiniteTimeSpan, stop.Token);
            }

            await DelayOrEnd(all, _options.Warmup, stop.Token);
            Stats.StartMeasuring();
            measureStart = Stopwatch.GetTimestamp();
            allocatedAtStart = GC.GetTotalAllocatedBytes();
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
        long allocated = GC.GetTotalAllocatedBytes() - allocatedAtStart;
        sampler?.Sample();
        double? serverCpu = sampler?.CpuSecondsSinceStart();
        double? clientCpu = self?.CpuSecondsSinceStart();
        await stop.CancelAsync();
        await all;
        await monitoring;
        var report = LoadReport.Create(_options, _endPoint, Stats, measured, interrupted: cancellationToken.IsCancellationRequested);
        report = clientCpu is { } cpu ? report.WithClientCost(cpu) : report;
        report = report with { ClientAllocatedBytesPerMessage = report.Messages > 0 ? Math.Round((double)allocated / report.Messages, 1) : null };
        report = _tls is null ? report : report with { Tls = _tls.Report() };
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
                    await (_options.Udp ? DatagramsAsync(slot, stop) : EchoAsync(slot, stop));
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
            return KindOf(ex);
        }
        catch (IOException ex) when (!stop.IsCancellationRequested)
        {
            // TLS wraps the socket's failure; one of its own (a bad record, an alert) is a failure of the session.
            return ex.InnerException is SocketException inner ? KindOf(inner) : ErrorKind.Other;
        }
        catch (Exception ex) when (stop.IsCancellationRequested && ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // Torn down at the end of the run.
            return null;
        }
    }

    private static ErrorKind KindOf(SocketException ex) =>
        ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown ? ErrorKind.Reset : ErrorKind.Other;
}
