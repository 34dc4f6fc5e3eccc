namespace EchoServer.Pools;

/// <summary>What a dedicated worker thread owns for its whole life: its name and one reusable buffer.</summary>
internal sealed class WorkerContext
{
    public WorkerContext(int index, string name, byte[] buffer)
    {
        Index = index;
        Name = name;
        Buffer = buffer;
    }

    /// <summary>1-based worker number.</summary>
    public int Index { get; }

    /// <summary>Thread name, e.g. <c>echo-worker-3</c>.</summary>
    public string Name { get; }

    /// <summary>The receive buffer this worker reuses for every client it serves.</summary>
    public byte[] Buffer { get; }

    /// <summary>The item being served now, or null when idle (read by snapshots).</summary>
    public object? Current { get; internal set; }
}
