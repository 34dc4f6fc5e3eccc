using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoServer.Tests.Pools;

/// <summary>What only the dedicated-thread pool promises.</summary>
public sealed class WorkerThreadPoolTests
{
    [Fact]
    public async Task Each_item_runs_on_its_own_named_worker_and_the_snapshot_shows_it()
    {
        using var harness = new PoolHarness("workers", new PoolSettings { Workers = 3, QueueCapacity = 1 });
        var items = new List<GatedItem>();
        for (int i = 0; i < 3; i++)
        {
            items.Add(await harness.SubmitAsync($"item-{i}"));
        }

        await Eventually.Completes(Task.WhenAll(items.Select(i => i.Started)), "every item to start");
        Assert.Equal(["test-worker-1", "test-worker-2", "test-worker-3"], items.Select(i => i.RanOnThread).Order());
        var snapshot = harness.Pool.Snapshot();
        Assert.Equal(items.Select(i => i.Name).Order(), snapshot.Workers!.Select(w => w!.Name).Order());
        Assert.Empty(snapshot.Queue);

        items.ForEach(i => i.Release());
        await Eventually.True(() => harness.Pool.Snapshot().Workers!.All(w => w is null), "every worker idle again");
    }

    [Fact]
    public async Task A_client_is_never_refused_while_a_worker_is_free()
    {
        // Many arrivals at once must not be refused merely because idle workers have not woken up yet.
        using var harness = new PoolHarness("workers", new PoolSettings { Workers = 64, QueueCapacity = 1 });
        var items = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => harness.SubmitAsync($"item-{i}")));

        await Eventually.Completes(Task.WhenAll(items.Select(i => i.Started)), "all 64 items to start");
        Assert.Empty(harness.Refused);
        items.ToList().ForEach(i => i.Release());
    }

    [Fact]
    public async Task On_linux_each_worker_runs_under_sched_batch()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // SCHED_BATCH is Linux's
        }

        var policies = new System.Collections.Concurrent.ConcurrentBag<bool>();
        using var pool = new WorkerThreadPool<object>(new PoolSettings { Workers = 2, QueueCapacity = 1 }, (_, _) => policies.Add(WorkerScheduling.IsBatchPolicy()), (_, _) => { }, NullLogger.Instance);
        pool.Start();
        await pool.SubmitAsync(new object(), CancellationToken.None);
        await pool.SubmitAsync(new object(), CancellationToken.None);

        await Eventually.True(() => policies.Count == 2, "both items to run");
        Assert.All(policies, Assert.True);
    }

    [Fact]
    public void Constructor_rejects_impossible_settings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerThreadPool<object>(new PoolSettings { Workers = 0 }, (_, _) => { }, (_, _) => { }, NullLogger.Instance));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerThreadPool<object>(new PoolSettings { QueueCapacity = 0 }, (_, _) => { }, (_, _) => { }, NullLogger.Instance));
    }
}
