using EchoServer.Pools;

namespace EchoServer.Connections;

/// <summary>Seams for fault-injection tests: called on the session's own thread, inside its error handling.</summary>
internal sealed class SessionHooks
{
    /// <summary>Runs after a session starts and before the echo loop does.</summary>
    public Action<ClientConnection>? BeforeEcho { get; set; }

    /// <summary>Executor: wraps a session's gate to its slots when the session starts.</summary>
    public Func<ClientConnection, ISlotGate, ISlotGate>? Gate { get; set; }
}
