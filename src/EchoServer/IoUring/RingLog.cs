using Microsoft.Extensions.Logging;

namespace EchoServer.IoUring;

/// <summary>Log events of the io_uring engine's threads.</summary>
internal static partial class RingLog
{
    [LoggerMessage(EventId = 500, EventName = "RingStarted", Level = LogLevel.Debug,
        Message = "io_uring engine started: {Rings} ring threads, {Buffers} provided buffers of {BufferSize} bytes each")]
    public static partial void Started(ILogger logger, int rings, int buffers, int bufferSize);

    [LoggerMessage(EventId = 501, EventName = "RingWorkFaulted", Level = LogLevel.Error,
        Message = "Work on ring thread {Thread} failed; the ring goes on")]
    public static partial void WorkFaulted(ILogger logger, Exception exception, string thread);

    [LoggerMessage(EventId = 502, EventName = "RingEnterFailed", Level = LogLevel.Error,
        Message = "io_uring_enter failed on {Thread}: {Error}; the ring goes on")]
    public static partial void EnterFailed(ILogger logger, string thread, string error);
}
