using Microsoft.Extensions.Logging;

namespace EchoServer.Pools;

/// <summary>Hands an item to its pool's refuse callback without letting a fault escape onto the caller's path.</summary>
internal static class Refusal
{
    public static void Deliver<T>(Action<T, CloseReason> refuse, T item, CloseReason reason, ILogger logger, PoolKind pool)
    {
        try
        {
            refuse(item, reason);
        }
#pragma warning disable CA1031 // Refusals run on the accept path and on the queue's timer: they must not throw there.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            PoolLog.RefuseFaulted(logger, ex, reason.ToName(), pool.ToName());
        }
    }
}
