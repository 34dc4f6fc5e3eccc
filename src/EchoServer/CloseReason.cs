namespace EchoServer;

/// <summary>
/// Why a connection ended, the one vocabulary every room uses: the pools refuse with it, the echo loops end
/// with it, and logs, metrics and snapshots print it as <see cref="CloseReasonNames.ToName"/> spells it.
/// </summary>
internal enum CloseReason
{
    /// <summary>The client closed its side and got every byte back.</summary>
    ClientClosed,

    /// <summary>The client reset the connection.</summary>
    Reset,

    /// <summary>The server shut down (drain deadline, or stopped before serving it).</summary>
    Shutdown,

    /// <summary>An unexpected error ended the session.</summary>
    Error,

    /// <summary>Refused: every slot busy and the queue full.</summary>
    PoolSaturated,

    /// <summary>Refused while queued, to make room for a newer arrival.</summary>
    DroppedOldest,

    /// <summary>Refused after waiting in the queue longer than the queue timeout.</summary>
    QueueTimeout,

    /// <summary>Sent nothing for longer than the idle timeout.</summary>
    IdleTimeout,

    /// <summary>Read nothing of what we sent for longer than the send timeout.</summary>
    SendTimeout,

    /// <summary>Refused: its address already held the per-address connection limit.</summary>
    PerIpLimit,

    /// <summary>Refused: no valid PROXY protocol header in time, or one from a source not trusted to send it.</summary>
    ProxyHeader,

    /// <summary>Ended on purpose by a fault (--fault-close-after with a FIN, --fault-reset-after with a reset); the close line's <c>fault=</c> says which.</summary>
    Fault,
}

/// <summary>The one spelling of each <see cref="CloseReason"/>, as the command line and the logs write it.</summary>
internal static class CloseReasonNames
{
    private static readonly string[] Names =
    [
        "client-closed", "reset", "shutdown", "error", "pool-saturated", "dropped-oldest", "queue-timeout",
        "idle-timeout", "send-timeout", "per-ip-limit", "proxy-header", "fault",
    ];

    public static string ToName(this CloseReason reason) => Names[(int)reason];

    /// <summary>True for the reasons that close a connection because the server would not serve it.</summary>
    public static bool IsRefusal(this CloseReason reason) =>
        reason is CloseReason.PoolSaturated or CloseReason.DroppedOldest or CloseReason.QueueTimeout or CloseReason.PerIpLimit
            or CloseReason.ProxyHeader;
}
