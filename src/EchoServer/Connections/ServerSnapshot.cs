using System.Diagnostics;
using System.Globalization;
using System.Text;
using EchoServer.Diagnostics;
using EchoServer.Echo;
using EchoServer.Pools;

namespace EchoServer.Connections;

/// <summary>
/// The equivalent of a thread dump for the pool: each worker's state (idle, or which connection it serves,
/// since when, bytes so far), the queue in order with wait times, and the totals. Captured once as
/// <see cref="SnapshotData"/>, then printed as text or serialized as JSON.
/// </summary>
internal static class ServerSnapshot
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static SnapshotData Capture(PoolState<ClientConnection> pool, ConnectionRegistry connections, ServerCounters counters, int maxConnections, bool draining, TimeSpan uptime, IReadOnlyList<LiveSample>? history = null, (DatagramTotals Totals, PoolLoad Load)? udp = null, SnapshotFaults? faults = null)
    {
        long now = Stopwatch.GetTimestamp();
        var busy = new List<SnapshotSlot>(pool.Load.Busy);
        int? sessions = null;
        int? idle = null;
        int? sending = null;
        if (pool.Workers is { } workers)
        {
            for (int i = 0; i < workers.Count; i++)
            {
                if (workers[i] is { } connection)
                {
                    busy.Add(Slot(i, connection.ServedBy ?? $"echo-worker-{i + 1}", connection, now));
                }
            }
        }
        else
        {
            // Executor: a session holds a slot only while it echoes. Every open connection is looked at (two
            // volatile reads each), but only those holding a slot, at most --workers, are described; those
            // waiting for data and those waiting for a client to take their echo hold none and are counted.
            int open = 0;
            int waiting = 0;
            int unsent = 0;
            var running = new List<ClientConnection>(pool.Load.Busy);
            foreach (var connection in connections.Enumerate())
            {
                if (connection.StartedAt == 0 || connection.IsClosed)
                {
                    continue;
                }

                open++;
                var kind = connection.Progress.Waiting.Kind;
                if (kind == SessionWait.Receive)
                {
                    waiting++;
                }
                else if (kind == SessionWait.Send)
                {
                    unsent++;
                }
                else if (kind == SessionWait.Echo)
                {
                    running.Add(connection);
                }
            }

            running.Sort(static (a, b) => a.Id.CompareTo(b.Id));
            for (int i = 0; i < running.Count; i++)
            {
                busy.Add(Slot(i, "executor", running[i], now));
            }

            sessions = open;
            idle = waiting;
            sending = unsent;
        }

        var queue = pool.Queue.Select(w => new SnapshotWaiter(w.Item.Id, w.Item.RemoteEndPoint?.ToString(), w.Waited.TotalSeconds)).ToList();
        var settings = pool.Settings;
        return new SnapshotData(
            SnapshotData.CurrentVersion,
            DateTimeOffset.UtcNow,
            draining ? "draining" : "serving",
            uptime.TotalSeconds,
            new SnapshotPool(pool.Kind.ToName(), settings.Workers, settings.QueueCapacity, settings.WhenFull.ToName(), settings.QueueTimeout.TotalSeconds, pool.Load.Busy, pool.Load.Queued),
            ProcessNow(),
            new SnapshotConnections(counters.Active, maxConnections, counters.Accepted, counters.Served, counters.Refused, counters.BytesIn, counters.BytesOut, sessions, idle, sending),
            busy,
            new SnapshotQueue(queue.Count, settings.QueueCapacity, queue.Count == 0 ? 0 : queue[0].WaitedSeconds, queue),
            history ?? [],
            udp is { } u ? new SnapshotDatagrams(u.Totals.Received, u.Totals.Echoed, u.Totals.BytesIn, u.Totals.BytesOut, u.Totals.DroppedTotal, u.Totals.Dropped.ToDictionary(d => d.Reason, d => d.Count), u.Load.Busy, u.Load.Queued) : null,
            faults);
    }

    public static string Render(SnapshotData s)
    {
        var text = new StringBuilder();
        var pool = s.Pool;
        text.AppendLine(C, $"pool={pool.Kind} workers={pool.Workers} busy={pool.Busy} queue={pool.Queued}/{pool.QueueCapacity} when-full={pool.WhenFull} state={s.State}");
        var gc = s.Process.GcCollections;
        text.AppendLine(C, $"runtime: threads={s.Process.Threads} allocated={s.Process.AllocatedBytes} B gc={gc[0]}/{gc[1]}/{gc[2]} heap={s.Process.HeapBytes} B rss={s.Process.RssBytes} B uptime={s.UptimeSeconds:F0} s");
        var c = s.Connections;
        text.AppendLine(C, $"connections: open={c.Open}/{c.Max} accepted={c.Accepted} served={c.Served} refused={c.Refused} bytes-in={c.BytesIn} bytes-out={c.BytesOut}");
        if (c.Sessions is null)
        {
            AppendWorkers(text, pool.Workers, s.Busy);
        }
        else
        {
            // Executor: the sessions holding no slot are counted, not listed.
            text.AppendLine(C, $"sessions: open={c.Sessions} idle={c.Idle} sending={c.Sending} holding a slot ({s.Busy.Count}):");
            foreach (var slot in s.Busy)
            {
                text.AppendLine(C, $"  {Describe(slot)}");
            }
        }

        text.AppendLine(C, $"queue, oldest first ({s.Queue.Length}):");
        foreach (var waiter in s.Queue.Waiting)
        {
            text.AppendLine(C, $"  #{waiter.Id} {waiter.Peer} waiting {waiter.WaitedSeconds:F3} s");
        }

        if (s.Udp is { } udp)
        {
            string reasons = string.Join(' ', udp.DroppedBy.Where(d => d.Value > 0).Select(d => string.Create(C, $"{d.Key}={d.Value}")));
            text.AppendLine(C, $"udp: received={udp.Received} echoed={udp.Echoed} dropped={udp.Dropped}{(reasons.Length > 0 ? $" ({reasons})" : string.Empty)} bytes-in={udp.BytesIn} bytes-out={udp.BytesOut} busy={udp.Busy} queue={udp.Queued}");
        }

        if (s.Faults is { } f)
        {
            text.AppendLine(C, $"faults: {f.InForce}; faulted connections open={f.Open} since-start={f.Faulted}");
        }

        return text.ToString().TrimEnd();
    }

    private static void AppendWorkers(StringBuilder text, int workers, IReadOnlyList<SnapshotSlot> busy)
    {
        text.AppendLine("workers:");
        int next = 0; // the first worker not printed yet
        foreach (var slot in busy.Append<SnapshotSlot?>(null))
        {
            int end = slot?.Slot ?? workers;
            if (end > next)
            {
                // Runs of idle workers fold into one line: 10,000 idle threads need not print 10,000 lines.
                text.AppendLine(end - next == 1
                    ? string.Create(C, $"  echo-worker-{next + 1}  idle")
                    : string.Create(C, $"  echo-worker-{next + 1}..{end}  idle ({end - next})"));
            }

            if (slot is not null)
            {
                text.AppendLine(C, $"  {slot.Worker}  serving {Describe(slot)}");
                next = slot.Slot + 1;
            }
        }
    }

    private static SnapshotSlot Slot(int index, string worker, ClientConnection c, long now) => new(
        index,
        worker,
        c.Progress.Waiting.Kind.ToName(),
        new SnapshotClient(c.Id, c.RemoteEndPoint?.ToString(), c.BytesIn, c.BytesOut, Stopwatch.GetElapsedTime(c.AcceptedAt, now).TotalSeconds, Stopwatch.GetElapsedTime(c.StartedAt == 0 ? now : c.StartedAt, now).TotalSeconds,
            c.Details is { Count: > 0 } details ? details.ToDictionary(d => d.Key, d => d.Value) : null));

    private static string Describe(SnapshotSlot slot) => string.Create(
        C,
        $"#{slot.Client.Id} {slot.Client.Peer} since {slot.Client.SinceSeconds:F3} s, in {slot.Client.BytesIn} B, out {slot.Client.BytesOut} B, {slot.State}{(slot.Client.Details is { } details ? ", " + ServerLog.FormatDetails([.. details]) : "")}");

    private static SnapshotProcess ProcessNow()
    {
        var (threads, rss) = ProcessFigures.Read();
        return new SnapshotProcess(
            Environment.ProcessId,
            threads,
            rss,
            GC.GetTotalMemory(false),
            GC.GetTotalAllocatedBytes(),
            [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)]);
    }
}
