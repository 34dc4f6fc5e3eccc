using EchoServer.Pools;

namespace EchoServer.Datagrams;

/// <summary>Where a received datagram waits for its reply: the pool kind --pool names, with its slots, queue and policy.</summary>
internal interface IDatagramPool : IDisposable
{
    /// <summary>Which pool this is.</summary>
    PoolKind Kind { get; }

    /// <summary>Replies being sent and datagrams waiting, now.</summary>
    PoolLoad Load { get; }

    /// <summary>Starts the workers (if any).</summary>
    void Start();

    /// <summary>
    /// Admits <paramref name="datagram"/> under the overload policy: it is echoed or dropped later, exactly once.
    /// Blocks the caller (the receive loop, a dedicated thread) only under --when-full wait with the queue full.
    /// </summary>
    void Admit(Datagram datagram, CancellationToken cancellationToken);

    /// <summary>Admits nothing more and drops what still waits (reason shutdown).</summary>
    void Complete();
}
