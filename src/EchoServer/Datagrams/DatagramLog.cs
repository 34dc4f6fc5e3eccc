using Microsoft.Extensions.Logging;

namespace EchoServer.Datagrams;

/// <summary>The UDP echo's log events: nothing per datagram, a summary at most every few seconds.</summary>
internal static partial class DatagramLog
{
    [LoggerMessage(EventId = 400, EventName = "UdpListening", Level = LogLevel.Information,
        Message = "UDP echo on {EndPoint} (pool={Pool}, rate per address {RatePerIp}/s, low ports {LowPorts})")]
    public static partial void Listening(ILogger logger, string endPoint, string pool, string ratePerIp, string lowPorts);

    [LoggerMessage(EventId = 401, EventName = "UdpDropped", Level = LogLevel.Warning,
        Message = "UDP: {Dropped} datagrams not echoed in the last {Seconds:0} s: {Reasons}{Busiest}")]
    public static partial void Dropped(ILogger logger, long dropped, double seconds, string reasons, string busiest);

    [LoggerMessage(EventId = 403, EventName = "UdpStopped", Level = LogLevel.Information,
        Message = "UDP stopped: {Received} datagrams received, {Echoed} echoed, {Dropped} dropped{Reasons}; {BytesIn} bytes received, {BytesOut} bytes echoed")]
    public static partial void Stopped(ILogger logger, long received, long echoed, long dropped, string reasons, long bytesIn, long bytesOut);

    [LoggerMessage(EventId = 402, EventName = "UdpReceiveFaulted", Level = LogLevel.Warning,
        Message = "UDP: a receive failed ({Count} in the last {Seconds:0} s); the loop goes on")]
    public static partial void ReceiveFaulted(ILogger logger, Exception exception, long count, double seconds);
}
