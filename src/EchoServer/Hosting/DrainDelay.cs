using EchoServer.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>
/// The pause between a stop request and the closing of the listener (<c>--drain-delay</c>): health checks
/// already report the drain while clients a load balancer still sends are served. A second Ctrl+C or SIGTERM
/// ends it early.
/// </summary>
internal sealed class DrainDelay(TimeSpan delay, ILogger logger, string pool) : IDisposable
{
    private readonly CancellationTokenSource _ended = new();
    private StopSignals? _signals;
    private volatile bool _waiting;

    /// <summary>Starts counting stop signals; called before the bind, so a signal sent as soon as "Listening on" appears counts.</summary>
    public void CountSignals()
    {
        if (delay > TimeSpan.Zero)
        {
            _signals = new StopSignals(End);
        }
    }

    /// <summary>Ends the delay now, or skips it if it has not begun.</summary>
    public void End()
    {
        try
        {
            if (!_ended.IsCancellationRequested)
            {
                if (_waiting)
                {
                    ServerLog.DrainDelaySkipped(logger, pool);
                }

                _ended.Cancel();
            }
        }
        catch (ObjectDisposedException)
        {
            // Stopped and disposed meanwhile.
        }
    }

    /// <summary>Waits out the delay, unless it is ended or <paramref name="cancellationToken"/> (the host's own deadline) fires first.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero || _ended.IsCancellationRequested)
        {
            return;
        }

        ServerLog.DrainDelay(logger, delay.TotalSeconds, pool);
        _waiting = true;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ended.Token);
        try
        {
            await Task.Delay(delay, either.Token);
        }
        catch (OperationCanceledException)
        {
            // Cut short by a second signal, or by the host's own deadline: on to the drain.
        }
    }

    public void Dispose()
    {
        _signals?.Dispose();
        _ended.Dispose();
    }
}
