using EchoServer.Pools;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoServer.Tests.Pools;

/// <summary>What only the dedicated-thread pool promises.</summary>
public sealed class WorkerThreadPoolTests
{
    [Fact]
    public void Start_returns_with_every_named_worker_ready()
    {
        using var pool = new WorkerThreadPool<object>(new PoolSettings { Workers = 5, QueueCapacity = 1 }, 512, (_, _) => { }, (_, _) => { }, NullLogger.Instance);

        pool.Start();

        Assert.Equal(
            ["echo-worker-1", "echo-worker-2", "echo-worker-3", "echo-worker-4", "echo-worker-5"],
            pool.Workers!.Select(w => w?.Name));
        Assert.All(pool.Workers!, w => Assert.True(w!.Buffer.Length >= 512));
    }

    [Fact]
    public async Task Each_worker_reuses_one_buffer_for_every_item()
    {
        var buffers = new System.Collections.Concurrent.ConcurrentBag<byte[]>();
        using var pool = new WorkerThreadPool<object>(new PoolSettings { Workers = 1, QueueCapacity = 8 }, 512, (_, w) => buffers.Add(w.Buffer), (_, _) => { }, NullLogger.Instance);
        pool.Start();

        var done = new List<Task<PoolOutcome>>();
        for (int i = 0; i < 5; i++)
        {
            done.Add(await pool.SubmitAsync(new object(), CancellationToken.None));
        }

        await Task.WhenAll(done).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(buffers.Distinct());
    }

    [Fact]
    public void Constructor_rejects_impossible_settings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerThreadPool<object>(new PoolSettings { Workers = 0 }, 512, (_, _) => { }, (_, _) => { }, NullLogger.Instance));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerThreadPool<object>(new PoolSettings { QueueCapacity = 0 }, 512, (_, _) => { }, (_, _) => { }, NullLogger.Instance));
    }
}
