using System.Net;
using Microsoft.Extensions.Logging;

namespace EchoServer.Diagnostics;

/// <summary>
/// The server's log events, with fixed ids so that operators can filter on them. A count is written as "what: N"
/// (or "what N") wherever a noun before it would need a plural. Events with two wordings are in ServerLog.Variants.cs.
/// </summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 2, EventName = "ConnectionAccepted", Level = LogLevel.Information,
        Message = "Connection {ConnectionId} accepted from {RemoteEndPoint} (pool={Pool})")]
    public static partial void Accepted(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string pool);

    [LoggerMessage(EventId = 5, EventName = "SessionStarted", Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} picked up by {ServedBy} after {QueuedMs:F1} ms in the queue (pool={Pool})")]
    public static partial void SessionStarted(ILogger logger, long connectionId, string servedBy, double queuedMs, string pool);

    [LoggerMessage(EventId = 6, EventName = "SessionFailed", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} failed on {ServedBy} (pool={Pool})")]
    public static partial void SessionFailed(ILogger logger, Exception exception, long connectionId, string servedBy, string pool);

    [LoggerMessage(EventId = 9, EventName = "Draining", Level = LogLevel.Information,
        Message = "Shutting down: stopped accepting; queued clients never served, closed: {Queued}; active sessions draining: {Active}, for up to {TimeoutSeconds:F1} s (pool={Pool})")]
    public static partial void Draining(ILogger logger, int queued, int active, double timeoutSeconds, string pool);

    [LoggerMessage(EventId = 40, EventName = "DrainDelay", Level = LogLevel.Information,
        Message = "Stop requested: /ready answers 503 draining; still accepting and serving for {DelaySeconds:F1} s before the listener closes (a second Ctrl+C or SIGTERM closes it now) (pool={Pool})")]
    public static partial void DrainDelay(ILogger logger, double delaySeconds, string pool);

    [LoggerMessage(EventId = 41, EventName = "DrainDelaySkipped", Level = LogLevel.Information,
        Message = "Second stop request: the drain delay ends now (pool={Pool})")]
    public static partial void DrainDelaySkipped(ILogger logger, string pool);

    [LoggerMessage(EventId = 10, EventName = "DrainDeadline", Level = LogLevel.Warning,
        Message = "Drain deadline reached: sessions still active, closed now: {Active} (pool={Pool})")]
    public static partial void DrainDeadline(ILogger logger, int active, string pool);

    [LoggerMessage(EventId = 11, EventName = "Stopped", Level = LogLevel.Information,
        Message = "Stopped after {UptimeSeconds:F1} s: connections served {Served}, refused {Refused}; bytes received {BytesIn}, echoed {BytesOut} (pool={Pool})")]
    public static partial void Stopped(ILogger logger, double uptimeSeconds, long served, long refused, long bytesIn, long bytesOut, string pool);

    [LoggerMessage(EventId = 21, EventName = "AcceptingResumed", Level = LogLevel.Information,
        Message = "A connection permit is free again: accepting resumes after {PausedSeconds:F1} s")]
    public static partial void AcceptingResumed(ILogger logger, double pausedSeconds);

    [LoggerMessage(EventId = 22, EventName = "RefusalsSummary", Level = LogLevel.Warning,
        Message = "Refusals not logged since the last refusal line: {Suppressed} (pool={Pool})")]
    public static partial void RefusalsSummary(ILogger logger, long suppressed, string pool);

    [LoggerMessage(EventId = 23, EventName = "HandOffFailed", Level = LogLevel.Error,
        Message = "Handing an accepted client to the pool failed; the client is closed and accepting goes on")]
    public static partial void HandOffFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 31, EventName = "ProxyHeaderRead", Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: PROXY protocol v{Version} header from {ProxyEndPoint}, client {RemoteEndPoint}")]
    public static partial void ProxyHeaderRead(ILogger logger, long connectionId, int version, IPEndPoint? proxyEndPoint, IPEndPoint? remoteEndPoint);

    [LoggerMessage(EventId = 32, EventName = "ProxyHeaderAbsent", Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} from {RemoteEndPoint}: no PROXY protocol header (optional), served as it is, its first {DataBytes} bytes read as data")]
    public static partial void ProxyHeaderAbsent(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, int dataBytes);

    [LoggerMessage(EventId = 13, EventName = "SessionStopped", Level = LogLevel.Warning,
        Message = "Sessions that did not end when asked to stop, reset now: {Active} (pool={Pool})")]
    public static partial void SessionsStuck(ILogger logger, int active, string pool);

    [LoggerMessage(EventId = 15, EventName = "ConfigurationWarning", Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void ConfigurationWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 17, EventName = "DescriptorsRecovered", Level = LogLevel.Information,
        Message = "File descriptors available again: accepting at full speed")]
    public static partial void DescriptorsRecovered(ILogger logger);

    [LoggerMessage(EventId = 18, EventName = "Stats", Level = LogLevel.Information,
        Message = "Stats: {ConnectionsPerSecond:F1} conn/s, {MiBPerSecond:F2} MiB/s echoed, active {Active}, queue {Queue}, busy {Busy}/{Workers}, refused {Refused}, p99 queue wait {QueueWaitP99Ms:F2} ms, oldest queue wait {OldestQueueWaitMs:F2} ms (pool={Pool})")]
    public static partial void Stats(ILogger logger, double connectionsPerSecond, double miBPerSecond, long active, int queue, int busy, int workers, long refused, double queueWaitP99Ms, double oldestQueueWaitMs, string pool);

    [LoggerMessage(EventId = 404, EventName = "DatagramStats", Level = LogLevel.Information,
        Message = "Stats (UDP): {ReceivedPerSecond:F1} datagrams/s received, {EchoedPerSecond:F1} echoed, dropped {Dropped}{Reasons}, busy {Busy}, queue {Queue} (pool={Pool})")]
    public static partial void DatagramStats(ILogger logger, double receivedPerSecond, double echoedPerSecond, long dropped, string reasons, int busy, int queue, string pool);

    [LoggerMessage(EventId = 19, EventName = "PoolSnapshot", Level = LogLevel.Information, Message = "Snapshot: {Line}")]
    public static partial void Snapshot(ILogger logger, string line);

    [LoggerMessage(EventId = 60, EventName = "BackgroundFailed", Level = LogLevel.Error,
        Message = "{Callback} failed and was skipped; the server goes on (background failures so far: {Count}; such lines not logged: {Suppressed})")]
    public static partial void BackgroundFailed(ILogger logger, Exception exception, string callback, long count, long suppressed);

    [LoggerMessage(EventId = 61, EventName = "SignalIgnored", Level = LogLevel.Information,
        Message = "{Signal} received and ignored: the server goes on (not logged since the last such line: {Suppressed})")]
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
