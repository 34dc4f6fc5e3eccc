using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Pools;

/// <summary>What both pools promise, checked without sockets.</summary>
public sealed class PoolBehaviourTests
{
    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Runs_at_most_N_items_at_once_and_queues_the_rest(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 3, QueueCapacity = 10 });
        var items = new List<(GatedItem Item, Task<PoolOutcome> Done)>();
        for (int i = 0; i < 8; i++)
        {
            items.Add(await harness.SubmitAsync($"item-{i}"));
        }

        await Eventually.True(() => harness.Running == 3, "three items running");
        Assert.Equal(3, harness.Pool.Busy);
        Assert.Equal(5, harness.Pool.QueueLength);

        foreach (var (item, _) in items)
        {
            item.Release();
        }

        var outcomes = await Eventually.Completes(Task.WhenAll(items.Select(i => i.Done)), "every item to finish");
        Assert.All(outcomes, o => Assert.Equal(PoolOutcome.Served, o));
        Assert.Equal(3, harness.Peak);
        Assert.Empty(harness.Refused);
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Reject_refuses_the_new_item_when_workers_are_busy_and_the_queue_is_full(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 2 });
        var running = await harness.SubmitAsync("running");
        await Eventually.Completes(running.Item.Started, "the first item to start");
        var queued1 = await harness.SubmitAsync("queued-1");
        var queued2 = await harness.SubmitAsync("queued-2");

        var refused = await harness.SubmitAsync("refused");

        Assert.Equal(PoolOutcome.PoolSaturated, await Eventually.Completes(refused.Done, "the refusal"));
        Assert.Equal([("refused", PoolOutcome.PoolSaturated)], harness.Refused.Select(r => (r.Item.Name, r.Outcome)));
        Assert.Equal(2, harness.Pool.QueueLength);
        Assert.False(queued1.Item.Started.IsCompleted);

        running.Item.Release();
        queued1.Item.Release();
        queued2.Item.Release();
        Assert.Equal(PoolOutcome.Served, await Eventually.Completes(queued2.Done, "the last queued item"));
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Wait_holds_the_submitter_until_the_queue_has_room(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 1, WhenFull = WhenFull.Wait });
        var running = await harness.SubmitAsync("running");
        await Eventually.Completes(running.Item.Started, "the first item to start");
        var queued = await harness.SubmitAsync("queued");

        var blocked = harness.SubmitAsync("waiting");
        await Task.Delay(100); // an expected wait: the submission must still be pending after it
        Assert.False(blocked.IsCompleted, "a full queue under 'wait' must hold the submitter");

        running.Item.Release();
        var waiting = await Eventually.Completes(blocked, "the waiting submission to be admitted");
        queued.Item.Release();
        waiting.Item.Release();
        Assert.Equal(PoolOutcome.Served, await Eventually.Completes(waiting.Done, "the waiting item to run"));
        Assert.Empty(harness.Refused);
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task DropOldest_refuses_the_longest_waiting_item_and_queues_the_new_one(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 2, WhenFull = WhenFull.DropOldest });
        var running = await harness.SubmitAsync("running");
        await Eventually.Completes(running.Item.Started, "the first item to start");
        var oldest = await harness.SubmitAsync("oldest");
        var younger = await harness.SubmitAsync("younger");

        var newest = await harness.SubmitAsync("newest");

        Assert.Equal(PoolOutcome.DroppedOldest, await Eventually.Completes(oldest.Done, "the oldest to be dropped"));
        Assert.Equal([("oldest", PoolOutcome.DroppedOldest)], harness.Refused.Select(r => (r.Item.Name, r.Outcome)));
        Assert.Equal(2, harness.Pool.QueueLength);

        foreach (var item in new[] { running, younger, newest })
        {
            item.Item.Release();
        }

        Assert.Equal(PoolOutcome.Served, await Eventually.Completes(younger.Done, "the younger item"));
        Assert.Equal(PoolOutcome.Served, await Eventually.Completes(newest.Done, "the newest item"));
        Assert.False(oldest.Item.Started.IsCompleted, "a dropped item never runs");
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Queue_timeout_refuses_an_item_that_waited_too_long(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 4, QueueTimeout = TimeSpan.FromMilliseconds(100) });
        var running = await harness.SubmitAsync("running");
        await Eventually.Completes(running.Item.Started, "the first item to start");
        var waiting = await harness.SubmitAsync("waiting");

        Assert.Equal(PoolOutcome.QueueTimeout, await Eventually.Completes(waiting.Done, "the queue timeout"));
        Assert.Equal(0, harness.Pool.QueueLength);

        // The freed slot is usable at once, and the worker goes on to newer items.
        var next = await harness.SubmitAsync("next");
        running.Item.Release();
        next.Item.Release();
        Assert.Equal(PoolOutcome.Served, await Eventually.Completes(next.Done, "the next item"));
        Assert.False(waiting.Item.Started.IsCompleted, "a timed-out item never runs");
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task A_throwing_item_faults_its_task_frees_its_slot_and_the_pool_goes_on(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 4 });
        var failing = await harness.SubmitAsync("failing", new InvalidOperationException("boom"));
        var next = await harness.SubmitAsync("next");

        failing.Item.Release();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Eventually.Completes(failing.Done, "the failing item"));
        Assert.Equal("boom", ex.Message);

        next.Item.Release();
        Assert.Equal(PoolOutcome.Served, await Eventually.Completes(next.Done, "the item after the failure"));
        Assert.Equal(failing.Item.RanOnThread, next.Item.RanOnThread);
        Assert.Equal(0, harness.Pool.Busy);
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Complete_refuses_queued_items_lets_running_ones_finish_then_completes(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 2, QueueCapacity = 4 });
        var a = await harness.SubmitAsync("a");
        var b = await harness.SubmitAsync("b");
        await Eventually.True(() => harness.Running == 2, "two items running");
        var queued = await harness.SubmitAsync("queued");

        harness.Pool.Complete();

        Assert.Equal(PoolOutcome.Shutdown, await Eventually.Completes(queued.Done, "the queued item to be refused"));
        Assert.False(harness.Pool.Completion.IsCompleted, "running items hold completion back");
        var late = await harness.SubmitAsync("late");
        Assert.Equal(PoolOutcome.Shutdown, await Eventually.Completes(late.Done, "a submission after Complete to be refused"));

        a.Item.Release();
        b.Item.Release();
        await Eventually.Completes(harness.Pool.Completion, "the pool to complete");
        Assert.Equal(PoolOutcome.Served, await a.Done);
        Assert.Equal(PoolOutcome.Served, await b.Done);
    }
}
