namespace EchoServer.Pools;

/// <summary>A dedicated worker as snapshots see it: its name and the item it serves now.</summary>
internal sealed class WorkerThread<T>(string name)
    where T : class
{
    private T? _current;

    /// <summary>Thread name, e.g. <c>echo-worker-3</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The item being served now, or null when idle.</summary>
    public T? Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value);
    }
}
