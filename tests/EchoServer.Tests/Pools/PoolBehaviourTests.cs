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
        var items = new List<GatedItem>();
        for (int i = 0; i < 8; i++)
        {
            items.Add(await harness.SubmitAsync($"item-{i}"));
        }

        await Eventually.True(() => harness.Running == 3 && harness.Pool.Load.Queued == 5, "three items running and five queued");
        Assert.Equal(3, harness.Pool.Load.Busy);

        items.ForEach(i => i.Release());
        var outcomes = await Eventually.Completes(Task.WhenAll(items.Select(i => i.Done)), "every item to finish");
        Assert.All(outcomes, o => Assert.Null(o));
        Assert.Equal(3, harness.Peak);
        Assert.Empty(harness.Refused);
        // An item reports itself done before its worker hands the slot back: the slots come back shortly after.
        await Eventually.True(() => harness.Pool.Load == new PoolLoad(0, 0), "every slot to be handed back");
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Items_get_slots_in_arrival_order(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 10 });
        var items = new List<GatedItem>();
        for (int i = 0; i < 6; i++)
        {
            items.Add(await harness.SubmitAsync($"item-{i}"));
            if (i == 0)
            {
                await Eventually.Completes(items[0].Started, "the first item to start"); // the rest queue behind it
            }
            else
            {
                // Executor sessions reach the queue from the thread pool, in any order: one at a time keeps arrival order known.
                int queued = i;
                await Eventually.True(() => harness.Pool.Load.Queued == queued, $"item-{i} queued");
            }
        }

        await Eventually.True(() => harness.Pool.Load.Queued == 5, "five items queued");
        foreach (var item in items)
        {
            await Eventually.Completes(item.Started, $"{item.Name} to start");
            item.Release();
        }

        Assert.Equal(items.Select(i => i.Name), harness.StartOrder);
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Reject_refuses_the_new_item_when_every_slot_is_busy_and_the_queue_is_full(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 2 });
        var running = await harness.SubmitAsync("running");
        await Eventually.Completes(running.Started, "the first item to start");
        var queued1 = await harness.SubmitAsync("queued-1");
        await Eventually.True(() => harness.Pool.Load.Queued == 1, "queued-1 queued first");
        var queued2 = await harness.SubmitAsync("queued-2");
        await Eventually.True(() => harness.Pool.Load.Queued == 2, "two items queued");

        var refused = await harness.SubmitAsync("refused");

        Assert.Equal(CloseReason.PoolSaturated, await Eventually.Completes(refused.Done, "the refusal"));
        Assert.Equal([("refused", CloseReason.PoolSaturated)], harness.Refused.Select(r => (r.Item.Name, r.Reason)));
        Assert.Equal(2, harness.Pool.Load.Queued);
        Assert.False(queued1.Started.IsCompleted);

        running.Release();
        queued1.Release();
        queued2.Release();
        Assert.Null(await Eventually.Completes(queued2.Done, "the last queued item"));
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Wait_holds_a_newcomer_until_the_queue_has_room_then_serves_it_in_order(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 1, WhenFull = WhenFull.Wait });
        var running = await harness.SubmitAsync("running");
        await Eventually.Completes(running.Started, "the first item to start");
        var queued = await harness.SubmitAsync("queued");
        await Eventually.True(() => harness.Pool.Load.Queued == 1, "one item queued");

        var held = harness.SubmitAsync("held");
        await Task.Delay(100); // an expected wait: nothing may happen to the held item during it
        Assert.Empty(harness.Refused);
        Assert.Equal(["running"], harness.StartOrder);

        running.Release();
        var waiting = await Eventually.Completes(held, "the held item to be admitted");
        await Eventually.Completes(queued.Started, "the queued item to start");
        queued.Release();
        waiting.Release();
        Assert.Null(await Eventually.Completes(waiting.Done, "the held item to run"));
        Assert.Equal(["running", "queued", "held"], harness.StartOrder);
        Assert.Empty(harness.Refused);
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task DropOldest_refuses_the_longest_waiting_item_and_queues_the_new_one(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 2, WhenFull = WhenFull.DropOldest });
        var running = await harness.SubmitAsync("running");
        await Eventually.Completes(running.Started, "the first item to start");
        var oldest = await harness.SubmitAsync("oldest");
        await Eventually.True(() => harness.Pool.Load.Queued == 1, "the oldest queued first");
        var younger = await harness.SubmitAsync("younger");
        await Eventually.True(() => harness.Pool.Load.Queued == 2, "two items queued");

        var newest = await harness.SubmitAsync("newest");

        Assert.Equal(CloseReason.DroppedOldest, await Eventually.Completes(oldest.Done, "the oldest to be dropped"));
        Assert.Equal([("oldest", CloseReason.DroppedOldest)], harness.Refused.Select(r => (r.Item.Name, r.Reason)));
        await Eventually.True(() => harness.Pool.Load.Queued == 2, "the newest item queued in its place");

        foreach (var item in new[] { running, younger, newest })
        {
            item.Release();
        }

        Assert.Null(await Eventually.Completes(younger.Done, "the younger item"));
        Assert.Null(await Eventually.Completes(newest.Done, "the newest item"));
        Assert.False(oldest.Started.IsCompleted, "a dropped item never runs");
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task Queue_timeout_refuses_an_item_that_waited_too_long(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 4, QueueTimeout = TimeSpan.FromMilliseconds(100) });
        var running = await harness.SubmitAsync("running");
        await Eventually.Completes(running.Started, "the first item to start");
        var waiting = await harness.SubmitAsync("waiting");

        Assert.Equal(CloseReason.QueueTimeout, await Eventually.Completes(waiting.Done, "the queue timeout"));
        Assert.Equal(0, harness.Pool.Load.Queued);

        // The queue goes on with newer items, and times them out too.
        var next = await harness.SubmitAsync("next");
        running.Release();
        next.Release();
        Assert.Null(await Eventually.Completes(next.Done, "the next item"));
        Assert.False(waiting.Started.IsCompleted, "a timed-out item never runs");
    }

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task A_throwing_item_is_contained_frees_its_slot_and_the_pool_goes_on(string kind)
    {
        using var harness = new PoolHarness(kind, new PoolSettings { Workers = 1, QueueCapacity = 4 });
        var failing = await harness.SubmitAsync("failing", new InvalidOperationException("boom"));
        await Eventually.Completes(failing.Started, "the failing item to start"); // executor sessions start on the thread pool in any order
        var next = await harness.SubmitAsync("next");

        failing.Release();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Eventually.Completes(failing.Done, "the failing item"));
        Assert.Equal("boom", ex.Message);

        next.Release();
        Assert.Null(await Eventually.Completes(next.Done, "the item after the failure"));
        Assert.Equal(failing.RanOnThread, next.RanOnThread);
        await Eventually.True(() => harness.Pool.Load.Busy == 0, "the slot freed");
    }

    [Fact]
    public async Task Worker_pool_Complete_refuses_queued_items_lets_running_ones_finish_then_completes()
    {
        using var harness = new PoolHarness("workers", new PoolSettings { Workers = 2, QueueCapacity = 4 });
        var a = await harness.SubmitAsync("a");
        var b = await harness.SubmitAsync("b");
        await Eventually.True(() => harness.Running == 2, "two items running");
        var queued = await harness.SubmitAsync("queued");

        harness.Pool.Complete();

        Assert.Equal(CloseReason.Shutdown, await Eventually.Completes(queued.Done, "the queued item to be refused"));
        Assert.False(harness.Pool.Completion.IsCompleted, "running items hold completion back");
        var late = await harness.SubmitAsync("late");
        Assert.Equal(CloseReason.Shutdown, await Eventually.Completes(late.Done, "a submission after Complete to be refused"));

        a.Release();
        b.Release();
        await Eventually.Completes(harness.Pool.Completion, "the pool to complete");
        Assert.Null(await a.Done);
        Assert.Null(await b.Done);
    }

    [Fact]
    public async Task Executor_Complete_refuses_new_items_and_keeps_serving_open_sessions_until_they_end()
    {
        using var harness = new PoolHarness("executor", new PoolSettings { Workers = 1, QueueCapacity = 4 });
        var a = await harness.SubmitAsync("a");
        await Eventually.Completes(a.Started, "a to start");
        var waiting = await harness.SubmitAsync("waiting");
        await Eventually.True(() => harness.Pool.Load.Queued == 1, "an open session waiting for a slot");

        harness.Pool.Complete();
        var late = await harness.SubmitAsync("late");
        Assert.Equal(CloseReason.Shutdown, await Eventually.Completes(late.Done, "a submission after Complete to be refused"));

        a.Release();
        await Eventually.Completes(waiting.Started, "the waiting session still to get its slot during the drain");
        Assert.False(harness.Pool.Completion.IsCompleted, "an open session holds completion back");
        waiting.Release();
        await Eventually.Completes(harness.Pool.Completion, "the executor to complete");
    }
}
