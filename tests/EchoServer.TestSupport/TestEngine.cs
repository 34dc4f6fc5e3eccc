using EchoServer.Hosting;
using EchoServer.IoUring;
using EchoServer.Pools;

namespace EchoServer.TestSupport;

/// <summary>
/// <c>ECHO_TEST_IO_ENGINE=io_uring</c> runs every executor server the tests start (in process, or as the
/// executable through <see cref="ServerProcess"/>) on the io_uring engine, so the executor's tests check it too.
/// </summary>
internal static class TestEngine
{
    public const string Variable = "ECHO_TEST_IO_ENGINE";

    /// <summary>The engine executor servers get when a test does not choose one.</summary>
    public static IoEngine Executor => Environment.GetEnvironmentVariable(Variable) == IoEngine.IoUring.ToName() ? IoEngine.IoUring : IoEngine.Sockets;

    public static ServerOptions Apply(ServerOptions options) =>
        options.Pool == PoolKind.Executor && options.IoEngine == IoEngine.Sockets && Executor == IoEngine.IoUring ? options with { IoEngine = IoEngine.IoUring } : options;

    /// <summary>The executable's arguments, with <c>--io-engine io_uring</c> added when asked for and the server runs the executor.</summary>
    public static IEnumerable<string> Apply(IReadOnlyList<string> args)
    {
        if (Executor != IoEngine.IoUring || args.Any(a => a.StartsWith("--io-engine", StringComparison.Ordinal) || a is "--help" or "-h" or "-?" or "--version"))
        {
            return args;
        }

        bool workers = args.Contains("--pool=workers") || args.Zip(args.Skip(1)).Any(p => p.First == "--pool" && p.Second == "workers");
        return workers ? args : [.. args, "--io-engine", IoEngine.IoUring.ToName()];
    }
}
