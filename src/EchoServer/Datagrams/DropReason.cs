namespace EchoServer.Datagrams;

/// <summary>Why a datagram was not echoed: the one vocabulary of the metrics, the stats line, the snapshot and the log.</summary>
internal enum DropReason
{
    /// <summary>From source port 0 or a port below 1024 (a service's port: the echo and chargen loop of CVE-1999-0103), without --udp-allow-low-ports.</summary>
    LowPort,

    /// <summary>Its source address had spent its --udp-rate-per-ip budget for this second.</summary>
    RateLimit,

    /// <summary>Longer than the largest datagram the buffer holds: never echoed as if whole.</summary>
    Truncated,

    /// <summary>Every slot busy and the queue full (--when-full reject).</summary>
    PoolSaturated,

    /// <summary>The oldest queued datagram, dropped to make room for a newer one (--when-full drop-oldest).</summary>
    DroppedOldest,

    /// <summary>Waited in the queue longer than --queue-timeout.</summary>
    QueueTimeout,

    /// <summary>Still queued when the drain deadline passed.</summary>
    Shutdown,

    /// <summary>The kernel refused the reply (its send buffer full, or the destination unreachable).</summary>
    SendFailed,

    /// <summary>Dropped on purpose (--fault-drop).</summary>
    Fault,
}

/// <summary>The one spelling of each <see cref="DropReason"/>.</summary>
internal static class DropReasonNames
{
    /// <summary>How many reasons there are.</summary>
    public const int Count = 9;

    private static readonly string[] Names =
        ["low-port", "rate-limit", "truncated", "pool-saturated", "dropped-oldest", "queue-timeout", "shutdown", "send-failed", "fault"];

    public static string ToName(this DropReason reason) => Names[(int)reason];

    /// <summary>The drop reason for a pool's refusal.</summary>
    public static DropReason FromRefusal(CloseReason reason) => reason switch
    {
        CloseReason.PoolSaturated => DropReason.PoolSaturated,
        CloseReason.DroppedOldest => DropReason.DroppedOldest,
        CloseReason.QueueTimeout => DropReason.QueueTimeout,
        _ => DropReason.Shutdown,
    };
}
