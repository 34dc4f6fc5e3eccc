using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace EchoServer.Diagnostics;

/// <summary>The server's log events, with fixed ids so that operators can filter on them.</summary>
internal static partial class ServerLog
{
    /// <summary>The first line: scripts read the port from it, operators the pid.</summary>
    public static void Listening(ILogger logger, string endPoint, string pool, int workers, int queue, int maxConnections) =>
        Listening(logger, endPoint, pool, workers, queue, maxConnections, Environment.ProcessId);

    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information,
        Message = "Listening on {EndPoint} (pool={Pool}, workers={Workers}, queue={Queue}, max-connections={MaxConnections}, pid={Pid})")]
    private static partial void Listening(ILogger logger, string endPoint, string pool, int workers, int queue, int maxConnections, int pid);

    [LoggerMessage(EventId = 2, EventName = "ConnectionAccepted", Level = LogLevel.Information,
        Message = "Connection {ConnectionId} accepted from {RemoteEndPoint} (pool={Pool})")]
    public static partial void Accepted(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string pool);

    /// <summary>Information for a connection that was served; Debug for a reset (clients leave that way by the thousand) and for one never served (refusals are summed up by <see cref="Refused"/>).</summary>
    [LoggerMessage(EventId = 3, EventName = "ConnectionClosed",
        Message = "Connection {ConnectionId} closed: reason={Reason}, worker={Worker}, queued={QueuedMs:F1} ms, in={BytesIn} B, out={BytesOut} B, duration={DurationMs:F1} ms (pool={Pool})")]
    public static partial void Closed(ILogger logger, LogLevel level, long connectionId, string reason, string worker, double queuedMs, long bytesIn, long bytesOut, double durationMs, string pool);

    [LoggerMessage(EventId = 4, EventName = "ConnectionRefused", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {RemoteEndPoint} refused: {Reason} (pool={Pool}, workers={Workers}, queue={Queue}; {Suppressed} more refusals since the last such line not logged)")]
    public static partial void Refused(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string reason, string pool, int workers, int queue, long suppressed);

    [LoggerMessage(EventId = 5, EventName = "SessionStarted", Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} picked up by {Worker} after {QueuedMs:F1} ms in the queue (pool={Pool})")]
    public static partial void SessionStarted(ILogger logger, long connectionId, string worker, double queuedMs, string pool);

    [LoggerMessage(EventId = 6, EventName = "SessionFailed", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} failed on {Worker} (pool={Pool})")]
    public static partial void SessionFailed(ILogger logger, Exception exception, long connectionId, string worker, string pool);

    [LoggerMessage(EventId = 8, EventName = "AcceptFailed", Level = LogLevel.Warning,
        Message = "Accept failed: {SocketError}; backing off {BackoffMs} ms and going on ({Suppressed} more accept failures since the last such line not logged)")]
    public static partial void AcceptFailed(ILogger logger, SocketError socketError, int backoffMs, long suppressed);

    [LoggerMessage(EventId = 9, EventName = "Draining", Level = LogLevel.Information,
        Message = "Shutting down: stopped accepting; closing {Queued} queued clients never served; draining {Active} active sessions for up to {TimeoutSeconds:F1} s (pool={Pool})")]
    public static partial void Draining(ILogger logger, int queued, int active, double timeoutSeconds, string pool);

    [LoggerMessage(EventId = 40, EventName = "DrainDelay", Level = LogLevel.Information,
        Message = "Stop requested: /ready answers 503 draining; still accepting and serving for {DelaySeconds:F1} s before the listener closes (a second Ctrl+C or SIGTERM closes it now) (pool={Pool})")]
    public static partial void DrainDelay(ILogger logger, double delaySeconds, string pool);

    [LoggerMessage(EventId = 41, EventName = "DrainDelaySkipped", Level = LogLevel.Information,
        Message = "Second stop request: the drain delay ends now (pool={Pool})")]
    public static partial void DrainDelaySkipped(ILogger logger, string pool);

    [LoggerMessage(EventId = 10, EventName = "DrainDeadline", Level = LogLevel.Warning,
        Message = "Drain deadline reached: closing {Active} sessions still active (pool={Pool})")]
    public static partial void DrainDeadline(ILogger logger, int active, string pool);

    [LoggerMessage(EventId = 11, EventName = "Stopped", Level = LogLevel.Information,
        Message = "Stopped after {UptimeSeconds:F1} s: {Served} connections served, {Refused} refused, {BytesIn} bytes received, {BytesOut} bytes echoed (pool={Pool})")]
    public static partial void Stopped(ILogger logger, double uptimeSeconds, long served, long refused, long bytesIn, long bytesOut, string pool);

    [LoggerMessage(EventId = 12, EventName = "ConnectionLimitReached", Level = LogLevel.Warning,
        Message = "All {MaxConnections} connection slots are held: accepting pauses until a connection closes; {Backlog} clients wait in the listen backlog ({Suppressed} more pauses since the last such line not logged)")]
    public static partial void ConnectionLimitReached(ILogger logger, int maxConnections, string backlog, long suppressed);

    [LoggerMessage(EventId = 21, EventName = "AcceptingResumed", Level = LogLevel.Information,
        Message = "A connection slot is free again: accepting resumes after {PausedSeconds:F1} s")]
    public static partial void AcceptingResumed(ILogger logger, double pausedSeconds);

    [LoggerMessage(EventId = 22, EventName = "RefusalsSummary", Level = LogLevel.Warning,
        Message = "{Suppressed} more refusals since the last refusal line not logged (pool={Pool})")]
    public static partial void RefusalsSummary(ILogger logger, long suppressed, string pool);

    [LoggerMessage(EventId = 23, EventName = "HandOffFailed", Level = LogLevel.Error,
        Message = "Handing an accepted client to the pool failed; the client is closed and accepting goes on")]
    public static partial void HandOffFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 24, EventName = "WorkersPinned", Level = LogLevel.Warning,
        Message = "All {Workers} workers are held by clients and {Idle} of them have sent nothing for over {IdleSeconds:F0} s, while {Queued} clients wait: the worker pool is thread-per-client; --pool executor serves idle clients without holding a worker ({Suppressed} more such warnings not logged)")]
    public static partial void WorkersPinned(ILogger logger, int workers, int idle, double idleSeconds, int queued, long suppressed);

    [LoggerMessage(EventId = 30, EventName = "ProxyHeaderRejected", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {RemoteEndPoint} refused: proxy-header, {Problem} ({Suppressed} more refusals since the last refusal line not logged)")]
    public static partial void ProxyHeaderRejected(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string problem, long suppressed);

    [LoggerMessage(EventId = 31, EventName = "ProxyHeaderRead", Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: PROXY protocol v{Version} header from {ProxyEndPoint}, client {RemoteEndPoint}")]
    public static partial void ProxyHeaderRead(ILogger logger, long connectionId, int version, IPEndPoint? proxyEndPoint, IPEndPoint? remoteEndPoint);

    [LoggerMessage(EventId = 13, EventName = "SessionStopped", Level = LogLevel.Warning,
        Message = "{Active} sessions did not end when asked to stop: resetting them (pool={Pool})")]
    public static partial void SessionsStuck(ILogger logger, int active, string pool);

    [LoggerMessage(EventId = 14, EventName = "DescriptorLimit", Level = LogLevel.Information,
        Message = "File descriptor limit {Limit} (max-connections={MaxConnections})")]
    public static partial void DescriptorLimit(ILogger logger, string limit, int maxConnections);

    [LoggerMessage(EventId = 15, EventName = "ConfigurationWarning", Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void ConfigurationWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 16, EventName = "DescriptorsExhausted", Level = LogLevel.Warning,
        Message = "File descriptors nearly exhausted (limit {Limit}): accepting slows to keep {Reserve} free for the runtime; waiting clients stay in the backlog")]
    public static partial void DescriptorsExhausted(ILogger logger, string limit, int reserve);

    [LoggerMessage(EventId = 17, EventName = "DescriptorsRecovered", Level = LogLevel.Information,
        Message = "File descriptors available again: accepting at full speed")]
    public static partial void DescriptorsRecovered(ILogger logger);

    [LoggerMessage(EventId = 18, EventName = "Stats", Level = LogLevel.Information,
        Message = "Stats: {ConnectionsPerSecond:F1} conn/s, {MiBPerSecond:F2} MiB/s echoed, active {Active}, queue {Queue}, busy {Busy}/{Workers}, refused {Refused}, p99 queue wait {QueueWaitP99Ms:F2} ms (pool={Pool})")]
    public static partial void Stats(ILogger logger, double connectionsPerSecond, double miBPerSecond, long active, int queue, int busy, int workers, long refused, double queueWaitP99Ms, string pool);

    [LoggerMessage(EventId = 19, EventName = "PoolSnapshot", Level = LogLevel.Information, Message = "Snapshot: {Line}")]
    public static partial void Snapshot(ILogger logger, string line);

    [LoggerMessage(EventId = 60, EventName = "BackgroundFailed", Level = LogLevel.Error,
        Message = "{Callback} failed and was skipped; the server goes on ({Count} background failures so far; {Suppressed} more such lines not logged)")]
    public static partial void BackgroundFailed(ILogger logger, Exception exception, string callback, long count, long suppressed);

    [LoggerMessage(EventId = 61, EventName = "SignalIgnored", Level = LogLevel.Information,
        Message = "{Signal} received and ignored: the server goes on ({Suppressed} more of it since the last such line not logged)")]
    public static partial void SignalIgnored(ILogger logger, string signal, long suppressed);

    [LoggerMessage(EventId = 62, EventName = "NothingToReload", Level = LogLevel.Information,
        Message = "SIGHUP received: nothing to reload; the server goes on ({Coalesced} SIGHUP answered by this line)")]
    public static partial void NothingToReload(ILogger logger, long coalesced);

    [LoggerMessage(EventId = 63, EventName = "Reloaded", Level = LogLevel.Information,
        Message = "SIGHUP received: reloaded {What} ({Coalesced} SIGHUP answered by this line)")]
    public static partial void Reloaded(ILogger logger, string what, long coalesced);

    [LoggerMessage(EventId = 64, EventName = "SnapshotsCoalesced", Level = LogLevel.Information,
        Message = "Snapshot: {Coalesced} SIGUSR1 received since the last snapshot answered by this one (at most one a second)")]
    public static partial void SnapshotsCoalesced(ILogger logger, long coalesced);

    [LoggerMessage(EventId = 20, EventName = "AdminListening", Level = LogLevel.Information,
        Message = "Admin endpoint on http://{EndPoint} (live view at /; /healthz, /ready, /snapshot, /snapshot.json, /metrics)")]
    public static partial void AdminListening(ILogger logger, string endPoint);
}
