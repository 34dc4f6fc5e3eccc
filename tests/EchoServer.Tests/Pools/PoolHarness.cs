using System.Collections.Concurrent;
using EchoServer.Pools;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoServer.Tests.Pools;

/// <summary>A work item whose run is held open until the test releases it, and that tells how it ended.</summary>
internal sealed class GatedItem(string name)
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<CloseReason?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    public Exception? ThrowOnRun { get; init; }

    public string? RanOnThread { get; set; }

    /// <summary>Completes once the item holds a slot (a worker, or an executor slot).</summary>
    public Task Started => _started.Task;

    /// <summary>Null once served to the end; the reason when refused; faulted with what its run threw.</summary>
    public Task<CloseReason?> Done => _done.Task;

    public Task ReleaseSignal => _release.Task;

    public void MarkStarted() => _started.TrySetResult();

    public void Release() => _release.TrySetResult();

    internal void End(CloseReason? refusal) => _done.TrySetResult(refusal);

    internal void Fail(Exception ex) => _done.TrySetException(ex);

    public override string ToString() => Name;
}

/// <summary>
/// Builds either pool around <see cref="GatedItem"/>s and records what it runs and refuses. An executor item
/// takes one slot through its gate, holds it until released, and gives it back: one burst of work.
/// </summary>
internal sealed class PoolHarness : IDisposable
{
    private readonly ConcurrentQueue<string> _startOrder = new();
    private int _running;
    private int _peak;

    public PoolHarness(string kind, PoolSettings settings)
    {
        Pool = kind switch
        {
            "workers" => new WorkerThreadPool<GatedItem>(settings, RunBlocking, Refuse, NullLogger.Instance, "test-worker"),
            "executor" => new BoundedExecutor<GatedItem>(settings, RunAsync, Refuse, NullLogger.Instance),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        Pool.Start();
    }

    public static TheoryData<string> Kinds => new() { "workers", "executor" };

    public IWorkPool<GatedItem> Pool { get; }

    public ConcurrentQueue<(GatedItem Item, CloseReason Reason)> Refused { get; } = new();

    /// <summary>Item names in the order they got a slot.</summary>
    public IReadOnlyList<string> StartOrder => [.. _startOrder];

    public int Peak => Volatile.Read(ref _peak);

    public int Running => Volatile.Read(ref _running);

    /// <summary>Submits a new item; the task completes once the pool admitted or refused it.</summary>
    public async Task<GatedItem> SubmitAsync(string name, Exception? throwOnRun = null)
    {
        var item = new GatedItem(name) { ThrowOnRun = throwOnRun };
        await Pool.SubmitAsync(item, CancellationToken.None);
        return item;
    }

    public void Dispose() => Pool.Dispose();

    private void RunBlocking(GatedItem item, string worker)
    {
        item.RanOnThread = worker;
        Hold(item, () => item.ReleaseSignal.Wait()); // a dedicated worker thread may block: that is the pool's point
    }

    private async ValueTask RunAsync(GatedItem item, ISlotGate gate)
    {
        item.RanOnThread = "executor";
        if (await gate.EnterAsync(CancellationToken.None) is { } refusal)
        {
            Refuse(item, refusal);
            return;
        }

        try
        {
            Enter(item);
            try
            {
                await item.ReleaseSignal;
                Finish(item);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
        finally
        {
            gate.Exit();
        }
    }

    private void Hold(GatedItem item, Action wait)
    {
        Enter(item);
        try
        {
            wait();
            Finish(item);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private static void Finish(GatedItem item)
    {
        if (item.ThrowOnRun is { } ex)
        {
            item.Fail(ex);
            throw ex;
        }

        item.End(null);
    }

    private void Enter(GatedItem item)
    {
        int now = Interlocked.Increment(ref _running);
        int peak;
        while (now > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }

        _startOrder.Enqueue(item.Name);
        item.MarkStarted();
    }

    private void Refuse(GatedItem item, CloseReason reason)
    {
        Refused.Enqueue((item, reason));
        item.End(reason);
    }
}
