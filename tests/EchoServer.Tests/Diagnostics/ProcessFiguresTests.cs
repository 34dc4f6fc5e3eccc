using System.Diagnostics;
using EchoServer.Diagnostics;

namespace EchoServer.Tests.Diagnostics;

/// <summary>The process figures the snapshots show, read cheaply, agree with what the runtime reports.</summary>
public sealed class ProcessFiguresTests
{
    [Fact]
    public void Threads_and_resident_set_agree_with_the_runtime()
    {
        // Other tests start and end threads (pools, rings) meanwhile: the counts must agree within a margin at a
        // moment when the runtime's own count did not move across the read, which a few tries find.
        string seen = "";
        for (int attempt = 0; attempt < 50; attempt++)
        {
            using var before = Process.GetCurrentProcess();
            var (threads, rss) = ProcessFigures.Read();
            using var after = Process.GetCurrentProcess();
            int low = Math.Min(before.Threads.Count, after.Threads.Count), high = Math.Max(before.Threads.Count, after.Threads.Count);
            seen = $"threads {threads} read, the runtime's {low}..{high}; rss {rss} B, the runtime's {after.WorkingSet64} B";
            if (high - low <= 2 && threads >= Math.Max(2, low - 8) && threads <= high + 8)
            {
                Assert.InRange(rss, after.WorkingSet64 / 2, after.WorkingSet64 * 2);
                return;
            }
        }

        Assert.Fail($"the counts never agreed across 50 tries: {seen}");
    }
}
