using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Datagrams;

/// <summary>
/// The worker pool for datagrams: its own dedicated threads (echo-udp-1, …) behind the shared admission
/// queue, each reply a blocking send on a worker. Not the TCP pool's threads: there a client holds its
/// worker for its whole life, so a few quiet TCP clients would stop UDP altogether.
/// </summary>
internal sealed class WorkerDatagramPool(PoolSettings settings, Action<Datagram> echo, Action<Datagram, CloseReason> drop, ILogger logger, Action<TimeSpan>? slotWaited)
    : IDatagramPool
{
    private readonly WorkerThreadPool<Datagram> _pool = new(settings, (d, _) => echo(d), drop, logger, "echo-udp", slotWaited);

    public PoolKind Kind => PoolKind.Workers;

    public PoolLoad Load => _pool.Load;

    public void Start() => _pool.Start();

    public void Admit(Datagram datagram, CancellationToken cancellationToken)
    {
        var submitted = _pool.SubmitAsync(datagram, cancellationToken);
        if (!submitted.IsCompleted)
        {
            // --when-full wait: the receive loop (a dedicated thread) stops here, and the kernel's buffer holds or drops.
            submitted.AsTask().GetAwaiter().GetResult();
        }
    }

    public void Complete() => _pool.Complete();

    public void Dispose() => _pool.Dispose();
}
