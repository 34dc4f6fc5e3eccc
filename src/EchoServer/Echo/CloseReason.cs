namespace EchoServer.Echo;

/// <summary>Why a connection ended; logged in kebab case (<c>client-closed</c>, <c>pool-saturated</c>, …).</summary>
internal enum CloseReason
{
    /// <summary>The client closed its side and got every byte back.</summary>
    ClientClosed,

    /// <summary>The client reset the connection.</summary>
    Reset,

    /// <summary>The server shut down.</summary>
    Shutdown,

    /// <summary>An unexpected error ended the session.</summary>
    Error,

    /// <summary>Refused: workers busy and queue full.</summary>
    PoolSaturated,

    /// <summary>Refused while queued to make room for a newer client.</summary>
    DroppedOldest,

    /// <summary>Refused after waiting in the queue too long.</summary>
    QueueTimeout,

    /// <summary>Sent nothing for longer than the idle timeout.</summary>
    IdleTimeout,

    /// <summary>Read nothing of what we sent for longer than the send timeout.</summary>
    SendTimeout,

    /// <summary>Refused: its address already held the per-address connection limit.</summary>
    PerIpLimit,
}

/// <summary>Wire names of <see cref="CloseReason"/>.</summary>
internal static class CloseReasonNames
{
    private static readonly string[] Names =
    [
        "client-closed", "reset", "shutdown", "error", "pool-saturated", "dropped-oldest", "queue-timeout",
        "idle-timeout", "send-timeout", "per-ip-limit",
    ];

    public static string ToName(this CloseReason reason) => Names[(int)reason];
}
