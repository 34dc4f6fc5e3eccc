namespace EchoServer.LoadTest;

/// <summary>What the load generator does with its connections.</summary>
internal enum LoadMode
{
    /// <summary>Keep C connections open and echo messages on them (throughput and latency).</summary>
    Echo,

    /// <summary>Connect, echo one message, close, repeat (connections per second).</summary>
    Connect,

    /// <summary>Open C connections, check each echoes once, keep them open for the duration (idle cost).</summary>
    Hold,
}
