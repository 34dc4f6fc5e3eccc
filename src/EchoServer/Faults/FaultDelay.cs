using System.Diagnostics;

namespace EchoServer.Faults;

/// <summary>A fault's wait on a timer, never shorter than asked: the runtime's timers count coarser time than the stopwatch and may fire a tick early.</summary>
internal static class FaultDelay
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    /// <summary>Completes once <paramref name="wait"/> has passed by the stopwatch; throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires first.</summary>
    public static async Task AtLeastAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        for (var left = wait; left > TimeSpan.Zero; left = wait - Stopwatch.GetElapsedTime(start))
        {
            await Task.Delay(left < Tick ? Tick : left, cancellationToken).ConfigureAwait(false);
        }
    }
}
