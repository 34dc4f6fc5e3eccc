using System.Diagnostics;
using EchoServer.Diagnostics;
using EchoServer.Echo;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Connections;

/// <summary>
/// Worker pool only: warns (rate-limited) when every worker is held by a client that has sent nothing for a
/// while and others wait in the queue, the way thread-per-client pools are starved by idle sockets.
/// </summary>
internal sealed class PinnedWorkersMonitor : IDisposable
{
    /// <summary>How long a client must have been silent to count as pinning its worker.</summary>
    public static readonly TimeSpan IdleFor = TimeSpan.FromSeconds(5);

    private readonly IWorkPool<ClientConnection> _pool;
    private readonly ConnectionRegistry _connections;
    private readonly ILogger _logger;
    private readonly LogRateLimiter _limiter = new(TimeSpan.FromSeconds(30));
    private readonly Timer _timer;

    public PinnedWorkersMonitor(IWorkPool<ClientConnection> pool, ConnectionRegistry connections, ILogger logger, BackgroundFaults faults)
    {
        _pool = pool;
        _connections = connections;
        _logger = logger;
        _timer = faults.StartTimer("The pinned-workers check", () => Check(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>Logs the warning when every worker is pinned and clients wait; returns whether they are.</summary>
    internal bool Check()
    {
        var load = _pool.Load;
        int workers = _pool.Settings.Workers;
        if (load.Busy < workers || load.Queued == 0)
        {
            return false;
        }

        long now = Stopwatch.GetTimestamp();
        int idle = _connections.Snapshot().Count(c =>
            c.ServedBy is not null && c.Progress.Waiting is (SessionWait.Receive, var since) && Stopwatch.GetElapsedTime(since, now) > IdleFor);
        if (idle < workers)
        {
            return false;
        }

        if (_limiter.TryAcquire(out long suppressed))
        {
            ServerLog.WorkersPinned(_logger, workers, idle, IdleFor.TotalSeconds, load.Queued, suppressed);
        }

        return true;
    }
}
