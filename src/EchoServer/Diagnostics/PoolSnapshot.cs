using System.Diagnostics;
using System.Globalization;
using System.Text;
using EchoServer.Echo;
using EchoServer.Pools;

namespace EchoServer.Diagnostics;

/// <summary>
/// The equivalent of a thread dump for the pool: each worker's state (idle, or which connection it serves,
/// since when, bytes so far), the queue in order with wait times, and the totals.
/// </summary>
internal static class PoolSnapshot
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Render(IWorkPool<ClientConnection> pool, ConnectionRegistry connections, ServerCounters counters, int maxConnections, bool draining)
    {
        long now = Stopwatch.GetTimestamp();
        var text = new StringBuilder();
        text.AppendLine(C, $"pool={pool.Name} workers={pool.Settings.Workers} busy={pool.Busy} queue={pool.QueueLength}/{pool.Settings.QueueCapacity} when-full={pool.Settings.WhenFull.ToString().ToLowerInvariant()} state={(draining ? "draining" : "serving")}");
        using var process = Process.GetCurrentProcess();
        text.AppendLine(C, $"runtime: threads={process.Threads.Count} allocated={GC.GetTotalAllocatedBytes()} B gc={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} heap={GC.GetTotalMemory(false)} B");
        text.AppendLine(C, $"connections: open={counters.Active}/{maxConnections} accepted={counters.Accepted} served={counters.Served} refused={counters.Refused} bytes-in={counters.BytesIn} bytes-out={counters.BytesOut}");

        if (pool.Workers is { } workers)
        {
            text.AppendLine("workers:");
            int idleFrom = -1;
            for (int i = 0; i <= workers.Count; i++)
            {
                var current = i < workers.Count ? workers[i]?.Current as ClientConnection : null;
                bool idle = i < workers.Count && current is null;
                if (idle)
                {
                    idleFrom = idleFrom < 0 ? i : idleFrom;
                    continue;
                }

                if (idleFrom >= 0)
                {
                    // Runs of idle workers fold into one line: 10,000 idle threads need not print 10,000 lines.
                    text.AppendLine(idleFrom == i - 1
                        ? string.Create(C, $"  echo-worker-{idleFrom + 1}  idle")
                        : string.Create(C, $"  echo-worker-{idleFrom + 1}..{i}  idle ({i - idleFrom})"));
                    idleFrom = -1;
                }

                if (current is not null)
                {
                    text.AppendLine(C, $"  {workers[i]!.Name}  serving {Describe(current, now)}");
                }
            }
        }
        else
        {
            var running = connections.Snapshot().Where(c => c.StartedAt != 0 && !c.IsClosed).OrderBy(c => c.Id).ToList();
            text.AppendLine(C, $"sessions running ({running.Count}):");
            foreach (var connection in running)
            {
                text.AppendLine(C, $"  {Describe(connection, now)}");
            }
        }

        var queued = pool.Queued.ToList();
        text.AppendLine(C, $"queue, oldest first ({queued.Count}):");
        foreach (var entry in queued)
        {
            text.AppendLine(C, $"  #{entry.Item.Id} {entry.Item.RemoteEndPoint} waiting {Stopwatch.GetElapsedTime(entry.Item.AcceptedAt, now).TotalSeconds:F3} s");
        }

        return text.ToString().TrimEnd();
    }

    private static string Describe(ClientConnection c, long now) => string.Create(
        C,
        $"#{c.Id} {c.RemoteEndPoint} since {Stopwatch.GetElapsedTime(c.StartedAt, now).TotalSeconds:F3} s, in {c.BytesIn} B, out {c.BytesOut} B, {c.Waiting.Kind.ToString().ToLowerInvariant()}");
}
