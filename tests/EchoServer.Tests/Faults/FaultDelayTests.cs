using System.Diagnostics;
using EchoServer.Faults;

namespace EchoServer.Tests.Faults;

/// <summary>A fault's wait is never shorter than asked, by the stopwatch the tests and the clients measure with.</summary>
public sealed class FaultDelayTests
{
    [Fact]
    public async Task A_wait_never_ends_before_its_time_and_a_stop_ends_it()
    {
        for (int i = 0; i < 40; i++)
        {
            var wait = TimeSpan.FromMilliseconds(3 + (i % 5));
            long start = Stopwatch.GetTimestamp();
            await FaultDelay.AtLeastAsync(wait, CancellationToken.None);
            var waited = Stopwatch.GetElapsedTime(start);
            Assert.True(waited >= wait, $"asked {wait.TotalMilliseconds} ms, waited {waited.TotalMilliseconds:F3} ms");
        }

        using var stop = new CancellationTokenSource();
        var waiting = FaultDelay.AtLeastAsync(TimeSpan.FromMinutes(5), stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
