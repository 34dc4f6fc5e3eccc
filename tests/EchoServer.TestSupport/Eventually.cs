using Xunit;
using System.Diagnostics;

namespace EchoServer.TestSupport;

/// <summary>Waits for a condition with a deadline instead of sleeping; fails with a message saying what never happened.</summary>
internal static class Eventually
{
    /// <summary>Generous bound for things that should happen "soon": a slow CI machine must not fail the test.</summary>
    public static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan QuickLook = TimeSpan.FromMilliseconds(2);

    public static async Task True(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = within ?? Soon;
        while (!condition())
        {
            if (deadline.Elapsed > limit)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:F1} s waiting for: {what}");
            }

            // Most conditions hold within microseconds (a hop through the thread pool): look again at once for a
            // moment before sleeping between looks, so tests that wait thousands of times stay fast.
            if (deadline.Elapsed < QuickLook)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(10);
            }
        }
    }

    /// <summary>Awaits <paramref name="task"/> or fails after <paramref name="within"/>.</summary>
    public static async Task<T> Completes<T>(Task<T> task, string what, TimeSpan? within = null)
    {
        var limit = within ?? Soon;
        try
        {
            return await task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {limit.TotalSeconds:F1} s waiting for: {what}");
            throw;
        }
    }

    public static async Task Completes(Task task, string what, TimeSpan? within = null)
    {
        var limit = within ?? Soon;
        try
        {
            await task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {limit.TotalSeconds:F1} s waiting for: {what}");
        }
    }
}
