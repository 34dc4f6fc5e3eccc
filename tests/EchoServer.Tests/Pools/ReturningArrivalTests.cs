using EchoServer.Pools;

namespace EchoServer.Tests.Pools;

/// <summary>An item served before (an executor session's next burst) is no newcomer: the overload policy never refuses or drops it.</summary>
public sealed class ReturningArrivalTests
{
    private readonly List<string> _decisions = [];

    [Fact]
    public async Task Under_reject_a_returning_item_waits_past_the_capacity_while_a_newcomer_is_refused()
    {
        using var queue = Queue(WhenFull.Reject);
        Assert.Equal(AdmissionKind.Granted, (await queue.ArriveAsync("a", CancellationToken.None)).Kind);
        Assert.Equal(AdmissionKind.Queued, queue.Rejoin("b", CancellationToken.None).Kind);
        Assert.Equal(AdmissionKind.Queued, queue.Rejoin("c", CancellationToken.None).Kind);
        Assert.Equal(2, queue.Waiting); // one more than the capacity

        var newcomer = await queue.ArriveAsync("d", CancellationToken.None);
        Assert.Equal((AdmissionKind.Refused, CloseReason.PoolSaturated), (newcomer.Kind, newcomer.Reason));

        queue.Release();
        queue.Release();
        Assert.Equal(["granted b", "granted c"], _decisions);
    }

    [Fact]
    public async Task Drop_oldest_drops_the_oldest_newcomer_never_an_older_returning_item()
    {
        using var queue = Queue(WhenFull.DropOldest, capacity: 2);
        await queue.ArriveAsync("a", CancellationToken.None);
        queue.Rejoin("returning", CancellationToken.None);
        await queue.ArriveAsync("new", CancellationToken.None);

        Assert.Equal(AdmissionKind.Queued, (await queue.ArriveAsync("newer", CancellationToken.None)).Kind);
        Assert.Equal(["refused new dropped-oldest"], _decisions);
        Assert.Equal(["returning", "newer"], queue.Snapshot().Select(w => w.Item));
    }

    [Fact]
    public async Task Drop_oldest_refuses_the_newcomer_when_every_waiter_was_served_before()
    {
        using var queue = Queue(WhenFull.DropOldest);
        await queue.ArriveAsync("a", CancellationToken.None);
        queue.Rejoin("returning", CancellationToken.None);

        var newcomer = await queue.ArriveAsync("new", CancellationToken.None);
        Assert.Equal((AdmissionKind.Refused, CloseReason.PoolSaturated), (newcomer.Kind, newcomer.Reason));
        Assert.Empty(_decisions);
        Assert.Equal(["returning"], queue.Snapshot().Select(w => w.Item));
    }

    [Fact]
    public async Task Under_wait_a_held_newcomer_enters_only_once_fewer_than_the_capacity_wait()
    {
        using var queue = Queue(WhenFull.Wait);
        await queue.ArriveAsync("a", CancellationToken.None);
        queue.Rejoin("r1", CancellationToken.None);
        queue.Rejoin("r2", CancellationToken.None);
        var held = queue.ArriveAsync("new", CancellationToken.None);
        Assert.False(held.IsCompleted);

        queue.Release(); // r1 runs; r2 still fills the queue
        Assert.False(held.IsCompleted);
        queue.Release(); // r2 runs; the queue has room
        Assert.Equal(AdmissionKind.Queued, (await held).Kind);
        Assert.Equal(["granted r1", "granted r2"], _decisions);
        Assert.Equal(["new"], queue.Snapshot().Select(w => w.Item));
    }

    [Fact]
    public void The_queue_timeout_still_refuses_a_returning_item_that_waited_too_long()
    {
        var clock = new ManualClock();
        using var queue = Queue(WhenFull.Reject, timeout: TimeSpan.FromMilliseconds(100), clock: clock);
        Assert.Equal(AdmissionKind.Granted, queue.Rejoin("a", CancellationToken.None).Kind);
        queue.Rejoin("b", CancellationToken.None);
        clock.Advance(TimeSpan.FromMilliseconds(60));
        queue.Rejoin("c", CancellationToken.None);

        clock.Advance(TimeSpan.FromMilliseconds(40));
        Assert.Equal(["refused b queue-timeout"], _decisions);
        clock.Advance(TimeSpan.FromMilliseconds(59));
        Assert.Single(_decisions);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["refused b queue-timeout", "refused c queue-timeout"], _decisions);
    }

    [Fact]
    public void A_returning_item_withdraws_with_its_ticket_once()
    {
        using var queue = Queue(WhenFull.Reject);
        queue.Rejoin("a", CancellationToken.None);
        var ticket = queue.Rejoin("b", CancellationToken.None).Ticket!;

        Assert.True(queue.TryWithdraw(ticket));
        Assert.False(queue.TryWithdraw(ticket));
        Assert.Equal(0, queue.Waiting);
    }

    private AdmissionQueue<string> Queue(WhenFull whenFull, int capacity = 1, TimeSpan? timeout = null, ManualClock? clock = null) => new(
        1,
        new PoolSettings { Workers = 1, QueueCapacity = capacity, WhenFull = whenFull, QueueTimeout = timeout ?? TimeSpan.Zero },
        id => _decisions.Add($"granted {id}"),
        (id, reason) => _decisions.Add($"refused {id} {reason.ToName()}"),
        time: clock);
}
