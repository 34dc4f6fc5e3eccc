using Microsoft.Extensions.Logging;

namespace EchoServer.Pools;

/// <summary>Log events of the pools themselves (the connection events live with the connections).</summary>
internal static partial class PoolLog
{
    [LoggerMessage(EventId = 100, EventName = "PoolStarted", Level = LogLevel.Debug,
        Message = "Pool {Pool} started: {Workers} workers, queue {Queue}, when-full {WhenFull}")]
    public static partial void Started(ILogger logger, string pool, int workers, int queue, string whenFull);

    [LoggerMessage(EventId = 101, EventName = "WorkItemFaulted", Level = LogLevel.Error,
        Message = "An item failed on {Worker} (pool={Pool}); the pool goes on")]
    public static partial void ItemFaulted(ILogger logger, Exception exception, string worker, string pool);

    [LoggerMessage(EventId = 102, EventName = "RefuseCallbackFaulted", Level = LogLevel.Error,
        Message = "Refusing an item ({Reason}) failed (pool={Pool})")]
    public static partial void RefuseFaulted(ILogger logger, Exception exception, string reason, string pool);

    [LoggerMessage(EventId = 103, EventName = "BatchPolicyRefused", Level = LogLevel.Debug,
        Message = "{Count} of {Workers} worker threads keep the default scheduling policy (SCHED_BATCH refused)")]
    public static partial void BatchPolicyRefused(ILogger logger, int count, int workers);
}
