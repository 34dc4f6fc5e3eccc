using System.Net;
using System.Net.Sockets;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Diagnostics;

// Events with two wordings under one id and one name, chosen by what is true: a rate-limited line says how many
// like it were held back only when some were (its field Suppressed is then there, and absent when none were),
// the executor's close line names no worker, the start line lists the faults only when some are in force, and a
// descriptor limit is a number (in JSON too) or is not written where the platform has none to read. The same id and name twice is on purpose here.
#pragma warning disable SYSLIB1006, SYSLIB1025
internal static partial class ServerLog
{
    private static readonly string ExecutorPool = PoolKind.Executor.ToName();

    /// <summary>The first line: scripts read the port from it, operators the pid; with faults in force, it lists them.</summary>
    public static void Listening(ILogger logger, string endPoint, string pool, int workers, int queue, int maxConnections, string faults = "")
    {
        if (faults.Length > 0)
        {
            ListeningWithFaults(logger, endPoint, pool, workers, queue, maxConnections, Environment.ProcessId, faults);
        }
        else
        {
            Listening(logger, endPoint, pool, workers, queue, maxConnections, Environment.ProcessId);
        }
    }

    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information,
        Message = "Listening on {EndPoint} (pool={Pool}, workers={Workers}, queue={Queue}, max-connections={MaxConnections}, pid={Pid})")]
    private static partial void Listening(ILogger logger, string endPoint, string pool, int workers, int queue, int maxConnections, int pid);

    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information,
        Message = "Listening on {EndPoint} (pool={Pool}, workers={Workers}, queue={Queue}, max-connections={MaxConnections}, pid={Pid}) with faults: {Faults}")]
    private static partial void ListeningWithFaults(ILogger logger, string endPoint, string pool, int workers, int queue, int maxConnections, int pid, string faults);

    /// <summary>
    /// Information for a connection that was served; Debug for a reset (clients leave that way by the thousand) and
    /// for one never served (refusals are summed up by <see cref="Refused"/>). The executor's line has no worker:
    /// a session there takes a slot per burst, never one for its whole life. What stages said of the connection
    /// (<paramref name="details"/>: <c>tls=TLSv1.3</c>, <c>fault=reset-after</c>) follows the duration.
    /// </summary>
    public static void Closed(ILogger logger, LogLevel level, long connectionId, string reason, string worker, double queuedMs, long bytesIn, long bytesOut, double durationMs, string pool, IReadOnlyList<KeyValuePair<string, string>>? details = null)
    {
        if (!logger.IsEnabled(level))
        {
            return;
        }

        if (details is { Count: > 0 })
        {
            string said = FormatDetails(details);
            if (pool == ExecutorPool)
            {
                ClosedInExecutorWithDetails(logger, level, connectionId, reason, queuedMs, bytesIn, bytesOut, durationMs, said, pool);
            }
            else
            {
                ClosedOnWorkerWithDetails(logger, level, connectionId, reason, worker, queuedMs, bytesIn, bytesOut, durationMs, said, pool);
            }
        }
        else if (pool == ExecutorPool)
        {
            ClosedInExecutor(logger, level, connectionId, reason, queuedMs, bytesIn, bytesOut, durationMs, pool);
        }
        else
        {
            ClosedOnWorker(logger, level, connectionId, reason, worker, queuedMs, bytesIn, bytesOut, durationMs, pool);
        }
    }

    /// <summary><c>key=value, key=value</c>; a value with a space, a comma or a quote is quoted, so that a reader can split the line.</summary>
    internal static string FormatDetails(IReadOnlyList<KeyValuePair<string, string>> details) =>
        string.Join(", ", details.Select(d => d.Value.AsSpan().IndexOfAny(" ,\"") >= 0 ? $"{d.Key}=\"{d.Value.Replace("\"", "\\\"", StringComparison.Ordinal)}\"" : $"{d.Key}={d.Value}"));

    public static void Refused(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string reason, string pool, int workers, int queue, long suppressed)
    {
        if (suppressed > 0)
        {
            RefusedSomeHeldBack(logger, connectionId, remoteEndPoint, reason, pool, workers, queue, suppressed);
        }
        else
        {
            RefusedNoneHeldBack(logger, connectionId, remoteEndPoint, reason, pool, workers, queue);
        }
    }

    public static void AcceptFailed(ILogger logger, SocketError socketError, int backoffMs, long suppressed)
    {
        if (suppressed > 0)
        {
            AcceptFailedSomeHeldBack(logger, socketError, backoffMs, suppressed);
        }
        else
        {
            AcceptFailedNoneHeldBack(logger, socketError, backoffMs);
        }
    }

    public static void ConnectionLimitReached(ILogger logger, int maxConnections, string backlog, long suppressed)
    {
        if (suppressed > 0)
        {
            ConnectionLimitReachedSomeHeldBack(logger, maxConnections, backlog, suppressed);
        }
        else
        {
            ConnectionLimitReachedNoneHeldBack(logger, maxConnections, backlog);
        }
    }

    public static void WorkersPinned(ILogger logger, int workers, int idle, double idleSeconds, int queued, long suppressed)
    {
        if (suppressed > 0)
        {
            WorkersPinnedSomeHeldBack(logger, workers, idle, idleSeconds, queued, suppressed);
        }
        else
        {
            WorkersPinnedNoneHeldBack(logger, workers, idle, idleSeconds, queued);
        }
    }

    public static void ProxyHeaderRejected(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string problem, long suppressed)
    {
        if (suppressed > 0)
        {
            ProxyHeaderRejectedSomeHeldBack(logger, connectionId, remoteEndPoint, problem, suppressed);
        }
        else
        {
            ProxyHeaderRejectedNoneHeldBack(logger, connectionId, remoteEndPoint, problem);
        }
    }

    public static void DescriptorLimit(ILogger logger, ulong? limit, int maxConnections)
    {
        if (limit is { } known)
        {
            DescriptorLimitKnown(logger, known, maxConnections);
        }
        else
        {
            DescriptorLimitUnknown(logger, maxConnections);
        }
    }

    public static void DescriptorsExhausted(ILogger logger, ulong? limit, int reserve)
    {
        if (limit is { } known)
        {
            DescriptorsExhaustedKnown(logger, known, reserve);
        }
        else
        {
            DescriptorsExhaustedUnknown(logger, reserve);
        }
    }

    [LoggerMessage(EventId = 3, EventName = "ConnectionClosed",
        Message = "Connection {ConnectionId} closed: reason={Reason}, worker={Worker}, queued={QueuedMs:F1} ms, in={BytesIn} B, out={BytesOut} B, duration={DurationMs:F1} ms (pool={Pool})")]
    private static partial void ClosedOnWorker(ILogger logger, LogLevel level, long connectionId, string reason, string worker, double queuedMs, long bytesIn, long bytesOut, double durationMs, string pool);

    [LoggerMessage(EventId = 3, EventName = "ConnectionClosed",
        Message = "Connection {ConnectionId} closed: reason={Reason}, queued={QueuedMs:F1} ms, in={BytesIn} B, out={BytesOut} B, duration={DurationMs:F1} ms (pool={Pool})")]
    private static partial void ClosedInExecutor(ILogger logger, LogLevel level, long connectionId, string reason, double queuedMs, long bytesIn, long bytesOut, double durationMs, string pool);

    [LoggerMessage(EventId = 3, EventName = "ConnectionClosed",
        Message = "Connection {ConnectionId} closed: reason={Reason}, worker={Worker}, queued={QueuedMs:F1} ms, in={BytesIn} B, out={BytesOut} B, duration={DurationMs:F1} ms, {Details} (pool={Pool})")]
    private static partial void ClosedOnWorkerWithDetails(ILogger logger, LogLevel level, long connectionId, string reason, string worker, double queuedMs, long bytesIn, long bytesOut, double durationMs, string details, string pool);

    [LoggerMessage(EventId = 3, EventName = "ConnectionClosed",
        Message = "Connection {ConnectionId} closed: reason={Reason}, queued={QueuedMs:F1} ms, in={BytesIn} B, out={BytesOut} B, duration={DurationMs:F1} ms, {Details} (pool={Pool})")]
    private static partial void ClosedInExecutorWithDetails(ILogger logger, LogLevel level, long connectionId, string reason, double queuedMs, long bytesIn, long bytesOut, double durationMs, string details, string pool);

    [LoggerMessage(EventId = 4, EventName = "ConnectionRefused", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {RemoteEndPoint} refused: {Reason} (pool={Pool}, workers={Workers}, queue={Queue})")]
    private static partial void RefusedNoneHeldBack(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string reason, string pool, int workers, int queue);

    [LoggerMessage(EventId = 4, EventName = "ConnectionRefused", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {RemoteEndPoint} refused: {Reason} (pool={Pool}, workers={Workers}, queue={Queue}; refusals not logged since the last such line: {Suppressed})")]
    private static partial void RefusedSomeHeldBack(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string reason, string pool, int workers, int queue, long suppressed);

    [LoggerMessage(EventId = 8, EventName = "AcceptFailed", Level = LogLevel.Warning,
        Message = "Accept failed: {SocketError}; backing off {BackoffMs} ms and going on")]
    private static partial void AcceptFailedNoneHeldBack(ILogger logger, SocketError socketError, int backoffMs);

    [LoggerMessage(EventId = 8, EventName = "AcceptFailed", Level = LogLevel.Warning,
        Message = "Accept failed: {SocketError}; backing off {BackoffMs} ms and going on (accept failures not logged since the last such line: {Suppressed})")]
    private static partial void AcceptFailedSomeHeldBack(ILogger logger, SocketError socketError, int backoffMs, long suppressed);

    [LoggerMessage(EventId = 12, EventName = "ConnectionLimitReached", Level = LogLevel.Warning,
        Message = "Every connection permit is held (max-connections={MaxConnections}): accepting pauses until a connection closes; clients waiting in the listen backlog: {Backlog}")]
    private static partial void ConnectionLimitReachedNoneHeldBack(ILogger logger, int maxConnections, string backlog);

    [LoggerMessage(EventId = 12, EventName = "ConnectionLimitReached", Level = LogLevel.Warning,
        Message = "Every connection permit is held (max-connections={MaxConnections}): accepting pauses until a connection closes; clients waiting in the listen backlog: {Backlog} (pauses not logged since the last such line: {Suppressed})")]
    private static partial void ConnectionLimitReachedSomeHeldBack(ILogger logger, int maxConnections, string backlog, long suppressed);

    [LoggerMessage(EventId = 24, EventName = "WorkersPinned", Level = LogLevel.Warning,
        Message = "Every worker is held by a client (workers={Workers}, silent for over {IdleSeconds:F0} s: {Idle}) while clients wait in the queue (queued: {Queued}): the worker pool is thread-per-client; --pool executor serves idle clients without holding a worker")]
    private static partial void WorkersPinnedNoneHeldBack(ILogger logger, int workers, int idle, double idleSeconds, int queued);

    [LoggerMessage(EventId = 24, EventName = "WorkersPinned", Level = LogLevel.Warning,
        Message = "Every worker is held by a client (workers={Workers}, silent for over {IdleSeconds:F0} s: {Idle}) while clients wait in the queue (queued: {Queued}): the worker pool is thread-per-client; --pool executor serves idle clients without holding a worker (such warnings not logged: {Suppressed})")]
    private static partial void WorkersPinnedSomeHeldBack(ILogger logger, int workers, int idle, double idleSeconds, int queued, long suppressed);

    [LoggerMessage(EventId = 30, EventName = "ProxyHeaderRejected", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {RemoteEndPoint} refused: proxy-header, {Problem}")]
    private static partial void ProxyHeaderRejectedNoneHeldBack(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string problem);

    [LoggerMessage(EventId = 30, EventName = "ProxyHeaderRejected", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {RemoteEndPoint} refused: proxy-header, {Problem} (refusals not logged since the last refusal line: {Suppressed})")]
    private static partial void ProxyHeaderRejectedSomeHeldBack(ILogger logger, long connectionId, IPEndPoint? remoteEndPoint, string problem, long suppressed);

    [LoggerMessage(EventId = 14, EventName = "DescriptorLimit", Level = LogLevel.Information,
        Message = "File descriptor limit {Limit} (max-connections={MaxConnections})")]
    private static partial void DescriptorLimitKnown(ILogger logger, ulong limit, int maxConnections);

    [LoggerMessage(EventId = 14, EventName = "DescriptorLimit", Level = LogLevel.Information,
        Message = "File descriptor limit unknown on this platform (max-connections={MaxConnections})")]
    private static partial void DescriptorLimitUnknown(ILogger logger, int maxConnections);

    [LoggerMessage(EventId = 16, EventName = "DescriptorsExhausted", Level = LogLevel.Warning,
        Message = "File descriptors nearly exhausted (limit {Limit}): accepting slows to keep {Reserve} free for the runtime; waiting clients stay in the backlog")]
    private static partial void DescriptorsExhaustedKnown(ILogger logger, ulong limit, int reserve);

    [LoggerMessage(EventId = 16, EventName = "DescriptorsExhausted", Level = LogLevel.Warning,
        Message = "File descriptors nearly exhausted: accepting slows to keep {Reserve} free for the runtime; waiting clients stay in the backlog")]
    private static partial void DescriptorsExhaustedUnknown(ILogger logger, int reserve);
}
#pragma warning restore SYSLIB1006, SYSLIB1025
