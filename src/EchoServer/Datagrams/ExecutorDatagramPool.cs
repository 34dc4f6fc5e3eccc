using EchoServer.Pools;

namespace EchoServer.Datagrams;

/// <summary>
/// The bounded executor for datagrams: a slot per datagram, taken from the same kind of admission queue the
/// executor's sessions use (--workers slots, FIFO, --queue, --when-full, --queue-timeout); the reply runs on
/// the .NET thread pool as a work item (the datagram itself: no allocation), and the slot goes back after it.
/// </summary>
internal sealed class ExecutorDatagramPool : IDatagramPool
{
    private readonly AdmissionQueue<Datagram> _queue;
    private readonly Action<Datagram, CloseReason> _drop;

    public ExecutorDatagramPool(PoolSettings settings, Action<Datagram> echo, Action<Datagram, CloseReason> drop, Action<TimeSpan>? slotWaited)
    {
        _drop = drop;
        _queue = new AdmissionQueue<Datagram>(settings.Workers, settings, Run, drop, slotWaited);
        Echo = d =>
        {
            try
            {
                echo(d);
            }
            finally
            {
                _queue.Release();
            }
        };
    }

    public PoolKind Kind => PoolKind.Executor;

    public PoolLoad Load => new(_queue.Busy, _queue.Waiting);

    private Action<Datagram> Echo { get; }

    public void Start()
    {
    }

    public void Admit(Datagram datagram, CancellationToken cancellationToken)
    {
        var arrival = _queue.ArriveAsync(datagram, cancellationToken);

        // --when-full wait: the receive loop (a dedicated thread) stops here, and the kernel's buffer holds or drops.
        var admission = arrival.IsCompleted ? arrival.Result : arrival.AsTask().GetAwaiter().GetResult();
        switch (admission.Kind)
        {
            case AdmissionKind.Granted:
                Run(datagram);
                break;
            case AdmissionKind.Refused:
                _drop(datagram, admission.Reason);
                break;
            default:
                break; // queued: the grant or the refusal comes later
        }
    }

    public void Complete() => _queue.Complete();

    public void Dispose() => _queue.Dispose();

    private void Run(Datagram datagram)
    {
        datagram.Work = Echo;
        ThreadPool.UnsafeQueueUserWorkItem(datagram, preferLocal: false);
    }
}
