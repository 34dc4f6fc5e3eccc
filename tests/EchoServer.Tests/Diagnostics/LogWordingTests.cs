using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EchoServer.Diagnostics;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.Diagnostics;

/// <summary>The log lines say what is true: counts without a wrong plural, a held-back count only when there is one, no worker the executor does not have, numbers as numbers.</summary>
public sealed class LogWordingTests
{
    private static readonly IPEndPoint Peer = new(IPAddress.Loopback, 40000);

    [Fact]
    public void Counts_of_one_read_right()
    {
        var log = new StateLogger();

        ServerLog.Stopped(log, 2.5, 1, 1, 1, 1, "workers");
        ServerLog.ConnectionLimitReached(log, 1, "1", 0);
        ServerLog.WorkersPinned(log, 1, 1, 30, 1, 0);

        Assert.Equal("Stopped after 2.5 s: connections served 1, refused 1; bytes received 1, echoed 1 (pool=workers)", log.Lines[0].Message);
        Assert.Equal(
            "Every connection permit is held (max-connections=1): accepting pauses until a connection closes; clients waiting in the listen backlog: 1",
            log.Lines[1].Message);
        Assert.StartsWith("Every worker is held by a client (workers=1, silent for over 30 s: 1) while clients wait in the queue (queued: 1): ", log.Lines[2].Message, StringComparison.Ordinal);
        Assert.All(log.Lines, l => Assert.DoesNotMatch(@"\b1 (connections|clients|workers|bytes)\b", l.Message));
    }

    [Fact]
    public void A_rate_limited_line_says_how_many_were_held_back_only_when_some_were()
    {
        var log = new StateLogger();
        foreach (long suppressed in new long[] { 0, 3 })
        {
            ServerLog.Refused(log, 7, Peer, "pool-saturated", "workers", 1, 1, suppressed);
            ServerLog.AcceptFailed(log, SocketError.TooManyOpenSockets, 10, suppressed);
            ServerLog.ConnectionLimitReached(log, 100, "5", suppressed);
            ServerLog.WorkersPinned(log, 4, 4, 30, 2, suppressed);
            ServerLog.RefusedWithProblem(log, 7, Peer, "proxy-header", "not a PROXY protocol header", suppressed);
        }

        var none = log.Lines.Take(5).ToList();
        var some = log.Lines.Skip(5).ToList();
        Assert.Equal([4, 8, 12, 24, 30], none.Select(l => l.EventId.Id));
        Assert.Equal(none.Select(l => (l.EventId.Id, l.EventId.Name)), some.Select(l => (l.EventId.Id, l.EventId.Name))); // one event, two wordings
        Assert.All(none, l => Assert.DoesNotContain("not logged", l.Message, StringComparison.Ordinal));
        Assert.All(none, l => Assert.DoesNotContain(l.State, kv => kv.Key == "Suppressed"));
        Assert.All(some, l => Assert.Matches(@"not logged[a-z ]*: 3\)$", l.Message));
        Assert.All(some, l => Assert.Contains(l.State, kv => kv.Key == "Suppressed" && Equals(kv.Value, 3L)));
        Assert.EndsWith("without holding a worker (such warnings not logged: 3)", some[3].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_executor_s_close_line_names_no_worker_and_the_worker_pool_s_names_its_thread()
    {
        var log = new StateLogger();

        ServerLog.Closed(log, LogLevel.Information, 1, "client-closed", "executor", 0.1, 12, 12, 25.2, "executor");
        ServerLog.Closed(log, LogLevel.Information, 2, "client-closed", "echo-worker-3", 0.3, 12, 12, 25.2, "workers");

        Assert.Equal("Connection 1 closed: reason=client-closed, queued=0.1 ms, in=12 B, out=12 B, duration=25.2 ms (pool=executor)", log.Lines[0].Message);
        Assert.DoesNotContain(log.Lines[0].State, kv => kv.Key == "Worker");
        Assert.Equal("Connection 2 closed: reason=client-closed, worker=echo-worker-3, queued=0.3 ms, in=12 B, out=12 B, duration=25.2 ms (pool=workers)", log.Lines[1].Message);
        Assert.All(log.Lines, l => Assert.Equal((3, "ConnectionClosed"), (l.EventId.Id, l.EventId.Name)));
    }

    [Fact]
    public async Task The_JSON_log_writes_the_descriptor_limit_as_a_number()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the limit is read from getrlimit
        }

        using var server = ServerProcess.Start(256, "--port", "0", "--log-format", "json", "--max-connections", "100");
        await Eventually.True(() => server.Stdout.Any(l => l.Contains("\"EventId\":14", StringComparison.Ordinal)), "the descriptor limit line");

        using var line = JsonDocument.Parse(server.Stdout.First(l => l.Contains("\"EventId\":14", StringComparison.Ordinal)));
        var state = line.RootElement.GetProperty("State");
        Assert.Equal(JsonValueKind.Number, state.GetProperty("Limit").ValueKind);
        Assert.Equal(256, state.GetProperty("Limit").GetInt64());
        Assert.Equal(JsonValueKind.Number, state.GetProperty("MaxConnections").ValueKind);
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>Keeps each line's message and its structured fields, as a structured log sink receives them.</summary>
    private sealed class StateLogger : ILogger
    {
        public List<(EventId EventId, string Message, IReadOnlyList<KeyValuePair<string, object?>> State)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((eventId, formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
    }
}
