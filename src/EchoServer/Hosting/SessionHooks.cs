using EchoServer.Echo;

namespace EchoServer.Hosting;

/// <summary>Seams for fault-injection tests: called on the session's own thread, inside its error handling.</summary>
internal sealed class SessionHooks
{
    /// <summary>Runs after a worker takes a connection and before the echo loop starts.</summary>
    public Action<ClientConnection>? BeforeEcho { get; set; }
}
