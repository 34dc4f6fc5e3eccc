using System.Diagnostics;
using System.Globalization;
using System.Text;
using EchoServer.Diagnostics;
using EchoServer.Echo;
using EchoServer.Pools;

namespace EchoServer.Connections;

/// <summary>
/// The equivalent of a thread dump for the pool: each worker's state (idle, or which connection it serves,
/// since when, bytes so far), the queue in order with wait times, and the totals.
/// </summary>
internal static class ServerSnapshot
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Render(PoolState<ClientConnection> pool, ConnectionRegistry connections, ServerCounters counters, int maxConnections, bool draining)
    {
        long now = Stopwatch.GetTimestamp();
        var text = new StringBuilder();
        text.AppendLine(C, $"pool={pool.Kind.ToName()} workers={pool.Settings.Workers} busy={pool.Load.Busy} queue={pool.Load.Queued}/{pool.Settings.QueueCapacity} when-full={pool.Settings.WhenFull.ToName()} state={(draining ? "draining" : "serving")}");
        using (var process = Process.GetCurrentProcess())
        {
            text.AppendLine(C, $"runtime: threads={process.Threads.Count} allocated={GC.GetTotalAllocatedBytes()} B gc={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} heap={GC.GetTotalMemory(false)} B");
        }

        text.AppendLine(C, $"connections: open={counters.Active}/{maxConnections} accepted={counters.Accepted} served={counters.Served} refused={counters.Refused} bytes-in={counters.BytesIn} bytes-out={counters.BytesOut}");
        if (pool.Workers is { } workers)
        {
            AppendWorkers(text, workers, now);
        }
        else
        {
            // Executor: a session holds a slot only while it echoes; the idle ones are counted, not listed.
            var open = connections.Snapshot().Where(c => c.StartedAt != 0 && !c.IsClosed).ToList();
            var running = open.Where(c => c.Progress.Waiting.Kind is SessionWait.Echo or SessionWait.Send).OrderBy(c => c.Id).ToList();
            text.AppendLine(C, $"sessions: open={open.Count} idle={open.Count(c => c.Progress.Waiting.Kind == SessionWait.Receive)} holding a slot ({running.Count}):");
            foreach (var connection in running)
            {
                text.AppendLine(C, $"  {Describe(connection, now)}");
            }
        }

        text.AppendLine(C, $"queue, oldest first ({pool.Queue.Count}):");
        foreach (var (connection, waited) in pool.Queue)
        {
            text.AppendLine(C, $"  #{connection.Id} {connection.RemoteEndPoint} waiting {waited.TotalSeconds:F3} s");
        }

        return text.ToString().TrimEnd();
    }

    private static void AppendWorkers(StringBuilder text, IReadOnlyList<ClientConnection?> workers, long now)
    {
        text.AppendLine("workers:");
        int idleFrom = -1;
        for (int i = 0; i <= workers.Count; i++)
        {
            var current = i < workers.Count ? workers[i] : null;
            if (i < workers.Count && current is null)
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
                text.AppendLine(C, $"  {current.Worker ?? $"echo-worker-{i + 1}"}  serving {Describe(current, now)}");
            }
        }
    }

    private static string Describe(ClientConnection c, long now) => string.Create(
        C,
        $"#{c.Id} {c.RemoteEndPoint} since {Stopwatch.GetElapsedTime(c.StartedAt == 0 ? now : c.StartedAt, now).TotalSeconds:F3} s, in {c.BytesIn} B, out {c.BytesOut} B, {c.Progress.Waiting.Kind.ToName()}");
}
