using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Pools;

/// <summary>Strict FIFO under the race that matters: a slot frees at the very moment a newcomer arrives.</summary>
public sealed class FifoRaceTests
{
    [Theory]
    [MemberData(nameof(PoolHarness.Kinds), MemberType = typeof(PoolHarness))]
    public async Task A_queued_item_is_always_served_before_a_later_arrival(string kind)
    {
        for (int round = 0; round < 150; round++)
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

            // Free one slot and have a newcomer arrive at once, from two threads.
            using var start = new Barrier(2);
            var release = Task.Run(() =>
            {
                start.SignalAndWait();
                a.Release();
            });
            var late = Task.Run(async () =>
            {
                start.SignalAndWait();
                return await harness.SubmitAsync("late");
            });
            await Eventually.Completes(release, "the release");
            var newcomer = await Eventually.Completes(late, "the newcomer's submission");

            foreach (var item in queued.Append(newcomer).Append(b))
            {
                await Eventually.Completes(item.Started, $"{item.Name} to start (round {round}; load {harness.Pool.Load}, started {string.Join(",", harness.StartOrder)}, refused {harness.Refused.Count}, a done {a.Done.Status})");
                item.Release();
            }

            Assert.Equal(["q-0", "q-1", "q-2", "late"], harness.StartOrder.Skip(2)); // a and b took free slots at once, in either order
        }
    }
}
