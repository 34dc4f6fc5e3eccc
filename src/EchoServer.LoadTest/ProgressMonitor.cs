using System.Diagnostics;

namespace EchoServer.LoadTest;

/// <summary>
/// Samples the stats once per interval for the progress line, and ends a run that has stopped making
/// progress for longer than the reply timeout (a lost byte would otherwise hang a --messages run forever).
/// </summary>
internal sealed class ProgressMonitor : IDisposable
{
    private readonly LoadStats _stats;
    private readonly LoadOptions _options;
    private readonly CancellationTokenSource _stop;
    private readonly long _start;
    private readonly Action<ProgressSample>? _report;
    private readonly PeriodicTimer _timer;
    private readonly ServerSampler? _sampler;

    public ProgressMonitor(LoadStats stats, LoadOptions options, CancellationTokenSource stop, long start, Action<ProgressSample>? report, ServerSampler? sampler)
    {
        _sampler = sampler;
        _stats = stats;
        _options = options;
        _stop = stop;
        _start = start;
        _report = report;
        var interval = options.ProgressInterval > TimeSpan.Zero ? options.ProgressInterval : TimeSpan.FromSeconds(sampler is null ? 1 : 0.25);
        _timer = new PeriodicTimer(interval);
    }

    public async Task RunAsync()
    {
        long lastMessages = 0;
        long lastResolved = 0;
        long lastBytes = 0;
        long lastProgressAt = Stopwatch.GetTimestamp();
        long lastTick = _start;
        try
        {
            while (await _timer.WaitForNextTickAsync(_stop.Token))
            {
                long now = Stopwatch.GetTimestamp();
                _sampler?.Sample();
                var interval = _stats.TakeInterval();
                long messages = _stats.Messages;
                long bytes = _stats.Bytes;
                double seconds = Stopwatch.GetElapsedTime(lastTick, now).TotalSeconds;
                lastTick = now;
                // Over UDP a datagram counted lost is progress too: ping-pong goes on with the next one.
                long resolved = messages + _stats.DatagramsLost;
                if (resolved != lastResolved)
                {
                    lastProgressAt = now;
                    lastResolved = resolved;
                }
                else if (_options.Mode != LoadMode.Hold && Stopwatch.GetElapsedTime(lastProgressAt, now) > _options.ReplyTimeout)
                {
                    _stats.RecordStalled();
                    await _stop.CancelAsync();
                }

                if (_options.ProgressInterval > TimeSpan.Zero)
                {
                    var elapsed = Stopwatch.GetElapsedTime(_start, now);
                    _report?.Invoke(new ProgressSample(
                        elapsed,
                        Remaining(elapsed, messages),
                        (messages - lastMessages) / Math.Max(seconds, 1e-9),
                        (bytes - lastBytes) / Math.Max(seconds, 1e-9) / (1 << 20),
                        interval.TotalCount > 0 ? interval.GetValueAtPercentile(99) / 1000.0 : 0,
                        messages,
                        _stats.TotalErrors,
                        _stats.Connects));
                }

                lastMessages = messages;
                lastBytes = bytes;
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private TimeSpan? Remaining(TimeSpan elapsed, long messages)
    {
        if (_options.Messages is not { } total)
        {
            return elapsed < _options.Duration ? _options.Duration - elapsed : TimeSpan.Zero;
        }

        return messages > 0 ? elapsed * ((double)Math.Max(total - messages, 0) / messages) : null;
    }

    public void Dispose() => _timer.Dispose();
}
