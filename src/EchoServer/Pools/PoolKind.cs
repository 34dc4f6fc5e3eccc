namespace EchoServer.Pools;

/// <summary>The pool implementations a server can run its sessions on.</summary>
internal enum PoolKind
{
    /// <summary>Dedicated worker threads with blocking I/O, one client per worker for the client's whole life.</summary>
    Workers,

    /// <summary>Bounded asynchronous executor: a client takes a slot only while it has data to echo.</summary>
    Executor,
}

/// <summary>The one spelling of each pool, as <c>--pool</c> takes it and logs, metrics and snapshots print it.</summary>
internal static class PoolKindNames
{
    public static string ToName(this PoolKind kind) => kind == PoolKind.Workers ? "workers" : "executor";

    public static IReadOnlyList<string> All { get; } = ["executor", "workers"];

    public static PoolKind Parse(string name) => name == "workers" ? PoolKind.Workers : PoolKind.Executor;
}
