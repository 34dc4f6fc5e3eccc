using System.Collections.Concurrent;
using System.Diagnostics;
using EchoServer.Pools;

namespace EchoServer.Tests.Pools;

/// <summary>The admission queue reports the wait of every grant, and only of grants.</summary>
public sealed class AdmissionWaitTests
{
    private static readonly TimeSpan Held = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task A_free_slot_reports_zero_a_queued_grant_its_wait_and_a_refusal_nothing()
    {
        var waits = new ConcurrentQueue<TimeSpan>();
        using var queue = new AdmissionQueue<string>(1, new PoolSettings { Workers = 1, QueueCapacity = 1 }, _ => { }, (_, _) => { }, waits.Enqueue);

        Assert.Equal(AdmissionKind.Granted, (await queue.ArriveAsync("a", CancellationToken.None)).Kind);
        var beforeArrival = Stopwatch.StartNew();
        Assert.Equal(AdmissionKind.Queued, (await queue.ArriveAsync("b", CancellationToken.None)).Kind);
        var afterArrival = Stopwatch.StartNew();
        Assert.Equal(AdmissionKind.Refused, (await queue.ArriveAsync("c", CancellationToken.None)).Kind);
        Assert.Equal([TimeSpan.Zero], waits);

        await Task.Delay(Held);
        var leastWait = afterArrival.Elapsed;
        queue.Release();

        Assert.Equal(2, waits.Count);
        Assert.InRange(waits.Last(), leastWait, beforeArrival.Elapsed);
    }

    [Fact]
    public async Task A_held_arrival_waits_from_its_arrival_not_from_its_place_in_the_queue()
    {
        var waits = new ConcurrentQueue<TimeSpan>();
        using var queue = new AdmissionQueue<string>(1, new PoolSettings { Workers = 1, QueueCapacity = 1, WhenFull = WhenFull.Wait }, _ => { }, (_, _) => { }, waits.Enqueue);
        await queue.ArriveAsync("a", CancellationToken.None);
        await queue.ArriveAsync("b", CancellationToken.None);
        var beforeArrival = Stopwatch.StartNew();
        var held = queue.ArriveAsync("c", CancellationToken.None).AsTask();
        var afterArrival = Stopwatch.StartNew();
        Assert.False(held.IsCompleted);

        await Task.Delay(Held);
        var leastWait = afterArrival.Elapsed;
        queue.Release(); // b takes the slot; c moves into the queue
        Assert.Equal(AdmissionKind.Queued, (await held).Kind);
        queue.Release(); // c takes the slot at once after entering the queue, but it arrived long before

        Assert.Equal(3, waits.Count);
        Assert.InRange(waits.Last(), leastWait, beforeArrival.Elapsed);
    }
}
