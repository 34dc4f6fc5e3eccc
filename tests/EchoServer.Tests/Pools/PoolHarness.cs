using System.Collections.Concurrent;
using EchoServer.Pools;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoServer.Tests.Pools;

/// <summary>A work item whose run is held open until the test releases it.</summary>
public sealed class GatedItem(string name)
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    public Exception? ThrowOnRun { get; init; }

    public string? RanOnThread { get; set; }

    public Task Started => _started.Task;

    public Task ReleaseSignal => _release.Task;

    public void MarkStarted() => _started.TrySetResult();

    public void Release() => _release.TrySetResult();

    public override string ToString() => Name;
}

/// <summary>Builds either pool around <see cref="GatedItem"/>s and records what it runs and refuses.</summary>
internal sealed class PoolHarness : IDisposable
{
    private int _running;
    private int _peak;

    public PoolHarness(string kind, PoolSettings settings)
    {
        Pool = kind switch
        {
            "workers" => new WorkerThreadPool<GatedItem>(settings, 1024, (item, worker) => RunBlocking(item, worker), Refuse, NullLogger.Instance, "test-worker"),
            "executor" => new BoundedExecutor<GatedItem>(settings, RunAsync, Refuse, NullLogger.Instance),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        Pool.Start();
    }

    public static TheoryData<string> Kinds => new() { "workers", "executor" };

    public IWorkPool<GatedItem> Pool { get; }

    public ConcurrentQueue<(GatedItem Item, PoolOutcome Outcome)> Refused { get; } = new();

    public int Peak => Volatile.Read(ref _peak);

    public int Running => Volatile.Read(ref _running);

    public async Task<(GatedItem Item, Task<PoolOutcome> Done)> SubmitAsync(string name, Exception? throwOnRun = null)
    {
        var item = new GatedItem(name) { ThrowOnRun = throwOnRun };
        var done = await Pool.SubmitAsync(item, CancellationToken.None);
        return (item, done);
    }

    public void Dispose() => Pool.Dispose();

    private void RunBlocking(GatedItem item, WorkerContext worker)
    {
        item.RanOnThread = worker.Name;
        Enter(item);
        try
        {
            item.ReleaseSignal.Wait(); // a dedicated worker thread may block: that is the pool's point
            if (item.ThrowOnRun is { } ex)
            {
                throw ex;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private async ValueTask RunAsync(GatedItem item)
    {
        item.RanOnThread = "executor";
        Enter(item);
        try
        {
            await item.ReleaseSignal;
            if (item.ThrowOnRun is { } ex)
            {
                throw ex;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private void Enter(GatedItem item)
    {
        int now = Interlocked.Increment(ref _running);
        int peak;
        while (now > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }

        item.MarkStarted();
    }

    private void Refuse(GatedItem item, PoolOutcome outcome) => Refused.Enqueue((item, outcome));
}
