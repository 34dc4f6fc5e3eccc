namespace EchoServer.IoUring;

/// <summary>What drives the executor's sessions' I/O.</summary>
internal enum IoEngine
{
    /// <summary>The runtime's sockets (epoll on Linux).</summary>
    Sockets,

    /// <summary>io_uring rings of our own (Linux).</summary>
    IoUring,
}

/// <summary>The one spelling of each engine, as <c>--io-engine</c> takes it.</summary>
internal static class IoEngineNames
{
    public static string ToName(this IoEngine engine) => engine == IoEngine.IoUring ? "io_uring" : "sockets";

    public static IReadOnlyList<string> All { get; } = ["sockets", "io_uring"];

    public static IoEngine Parse(string name) => name == "io_uring" ? IoEngine.IoUring : IoEngine.Sockets;
}
