using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Pools;

/// <summary>Strict FIFO under the race that matters: a slot frees at the very moment a newcomer arrives.</summary>
public sealed class FifoRaceTests
{
    private const int Rounds = 2000;

    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task A_queued_item_is_always_served_before_a_later_arrival(string kind)
    {
        var overtaken = new List<int>();
        for (int round = 0; round < Rounds; round++)
        {
            using var harness = new PoolHarness(kind, new PoolSettings { Workers = 2, QueueCapacity = 5 });
            var a = await harness.SubmitAsync("a");
            var b = await harness.SubmitAsync("b");
            await Eventually.Completes(Task.WhenAll(a.Started, b.Started), "both slots taken");
            var queued = new List<GatedItem>();
            for (int i = 0; i < 3; i++)
            {
                queued.Add(await harness.SubmitAsync($"q-{i}"));
                int expected = i + 1;
                await Eventually.True(() => harness.Pool.Load.Queued == expected, $"q-{i} queued"); // executor sessions arrive from the thread pool: one at a time keeps their order known
            }

            // The newcomer spins until it sees the slot free (or already handed on) and arrives at that instant:
            // a pool that frees the slot before it hands it to the oldest waiter lets the newcomer take it.
            var first = queued[0];
            var late = Task.Factory.StartNew(
                () =>
                {
                    while (harness.Pool.Load.Busy == 2 && !first.Started.IsCompleted)
                    {
                        Thread.SpinWait(1);
                    }

                    return harness.SubmitAsync("late").GetAwaiter().GetResult();
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            a.Release();
            var newcomer = await Eventually.Completes(late, "the newcomer's submission");
            await Eventually.True(() => harness.Running == 2, $"a freed slot taken again (round {round})");
            if (!first.Started.IsCompleted || newcomer.Started.IsCompleted)
            {
                overtaken.Add(round);
            }

            foreach (var item in queued.Append(newcomer).Append(b))
            {
                item.Release();
            }

            await Eventually.Completes(Task.WhenAll(queued.Append(newcomer).Append(b).Select(i => i.Done)), $"every item to finish (round {round})");
            Assert.Empty(harness.Refused);
        }

        Assert.True(overtaken.Count == 0, $"a later arrival took the freed slot before the oldest waiter in {overtaken.Count} of {Rounds} rounds (first: round {overtaken.FirstOrDefault()})");
    }
}
