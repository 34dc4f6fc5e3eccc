namespace EchoServer.IoUring;

/// <summary>How a ring request's errno maps to a close reason, as the sockets engine maps socket errors.</summary>
internal static class RingErrors
{
    private const int ECONNABORTED = 103;
    private const int ENOTCONN = 107;
    private const int ESHUTDOWN = 108;
    private const int ETIMEDOUT = 110;

    /// <summary>A reset, abort or broken pipe is the client's normal way to leave; anything else is an error worth logging.</summary>
    public static CloseReason ToCloseReason(int errno) => errno switch
    {
        Interop.ECONNRESET or ECONNABORTED or Interop.EPIPE or ENOTCONN or ESHUTDOWN or ETIMEDOUT or Interop.ECANCELED => CloseReason.Reset,
        _ => CloseReason.Error,
    };
}
