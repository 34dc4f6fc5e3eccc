namespace EchoServer.Pools;

/// <summary>The pool implementations a server can run its sessions on.</summary>
internal enum PoolKind
{
    /// <summary>Dedicated worker threads with blocking I/O, one client per worker at a time.</summary>
    Workers,

    /// <summary>Bounded asynchronous executor on the .NET thread pool.</summary>
    Executor,
}
