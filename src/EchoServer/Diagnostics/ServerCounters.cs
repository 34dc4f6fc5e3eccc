namespace EchoServer.Diagnostics;

/// <summary>Totals since start, safe to read from any thread.</summary>
internal sealed class ServerCounters
{
    private long _accepted;
    private long _served;
    private long _refused;
    private long _active;
    private long _bytesIn;
    private long _bytesOut;

    public long Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections a worker took and ran to the end.</summary>
    public long Served => Volatile.Read(ref _served);

    /// <summary>Connections closed without being served (saturated, dropped, timed out in the queue, shutdown).</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>Connections accepted and not yet closed.</summary>
    public long Active => Volatile.Read(ref _active);

    public long BytesIn => Volatile.Read(ref _bytesIn);

    public long BytesOut => Volatile.Read(ref _bytesOut);

    public void OnAccepted()
    {
        Interlocked.Increment(ref _accepted);
        Interlocked.Increment(ref _active);
    }

    public void OnClosed(bool served, long bytesIn, long bytesOut)
    {
        Interlocked.Increment(ref served ? ref _served : ref _refused);
        Interlocked.Add(ref _bytesIn, bytesIn);
        Interlocked.Add(ref _bytesOut, bytesOut);
        Interlocked.Decrement(ref _active);
    }
}
