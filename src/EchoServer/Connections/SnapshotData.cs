namespace EchoServer.Connections;

/// <summary>
/// The server at one moment: what <c>/snapshot</c> prints and <c>/snapshot.json</c> serializes (the schema is in
/// src/README.md, "Live view"). Only the slots holding a client carry detail, so its size follows the load, not
/// the pool's size or the number of idle connections.
/// </summary>
internal sealed record SnapshotData(
    int Version,
    DateTimeOffset TakenAt,
    string State,
    double UptimeSeconds,
    SnapshotPool Pool,
    SnapshotProcess Process,
    SnapshotConnections Connections,
    IReadOnlyList<SnapshotSlot> Busy,
    SnapshotQueue Queue,
    IReadOnlyList<LiveSample> History,
    SnapshotDatagrams? Udp = null,
    SnapshotFaults? Faults = null)
{
    /// <summary>Raised when a field changes meaning or goes away; new fields do not raise it.</summary>
    public const int CurrentVersion = 1;
}

/// <summary>The pool's kind, settings and load.</summary>
internal sealed record SnapshotPool(string Kind, int Workers, int QueueCapacity, string WhenFull, double QueueTimeoutSeconds, int Busy, int Queued);

/// <summary>The process: threads, memory and collections.</summary>
internal sealed record SnapshotProcess(int Id, int Threads, long RssBytes, long HeapBytes, long AllocatedBytes, IReadOnlyList<int> GcCollections);

/// <summary>Connection totals; <c>Sessions</c>, <c>Idle</c> and <c>Sending</c> only for the executor (null for the worker pool).</summary>
internal sealed record SnapshotConnections(long Open, int Max, long Accepted, long Served, long Refused, long BytesIn, long BytesOut, int? Sessions, int? Idle, int? Sending);

/// <summary>The UDP echo (null without --udp): datagrams and bytes since start, drops by reason, and its pool's load now.</summary>
internal sealed record SnapshotDatagrams(long Received, long Echoed, long BytesIn, long BytesOut, long Dropped, IReadOnlyDictionary<string, long> DroppedBy, int Busy, int Queued);

/// <summary>The connection faults in force (null when none is): as the start line lists them, faulted connections open now and since start.</summary>
internal sealed record SnapshotFaults(string InForce, long Open, long Faulted);

/// <summary>One slot holding a client: a worker thread, or an executor slot running a burst.</summary>
internal sealed record SnapshotSlot(int Slot, string Worker, string State, SnapshotClient Client);

/// <summary>A connection as a slot or the queue shows it; <c>Details</c> is what stages said of it (TLS, faults), null for nothing.</summary>
internal sealed record SnapshotClient(long Id, string? Peer, long BytesIn, long BytesOut, double AgeSeconds, double SinceSeconds, IReadOnlyDictionary<string, string>? Details = null);

/// <summary>The admission queue, oldest first.</summary>
internal sealed record SnapshotQueue(int Length, int Capacity, double OldestWaitSeconds, IReadOnlyList<SnapshotWaiter> Waiting);

/// <summary>One client waiting in the queue.</summary>
internal sealed record SnapshotWaiter(long Id, string? Peer, double WaitedSeconds);

/// <summary>One second of the last minute: rates over that second, the queue-wait p99 of the waits that ended in it or were still in progress at its end, and the oldest queue wait then.</summary>
internal sealed record LiveSample(double UptimeSeconds, double AcceptedPerSecond, double RefusedPerSecond, double ClosedPerSecond, double MibPerSecond, double QueueWaitP99Ms, double OldestQueueWaitMs);
