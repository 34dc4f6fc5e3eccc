using System.Diagnostics;
using EchoServer.Diagnostics;

namespace EchoServer.Tests.Diagnostics;

/// <summary>The process figures the snapshots show, read cheaply, agree with what the runtime reports.</summary>
public sealed class ProcessFiguresTests
{
    [Fact]
    public void Threads_and_resident_set_agree_with_the_runtime()
    {
        var (threads, rss) = ProcessFigures.Read();
        using var process = Process.GetCurrentProcess();

        // Other test threads come and go, and memory moves, meanwhile: agree within a margin, in the same units.
        Assert.InRange(threads, Math.Max(2, process.Threads.Count - 8), process.Threads.Count + 8);
        Assert.InRange(rss, process.WorkingSet64 / 2, process.WorkingSet64 * 2);
    }
}
