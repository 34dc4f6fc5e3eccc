using EchoServer.Hosting;
using EchoServer.TestSupport;
using Xunit.Abstractions;

namespace EchoServer.Tests.EndToEnd;

/// <summary>Limits of the machine the server cannot run within are refused at start with one line and exit code 2.</summary>
public sealed class StartupLimitTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(90, "--max-connections", "1")]
    [InlineData(200, "--max-connections", "1", "--admin-port", "0")]
    public async Task A_descriptor_limit_too_small_for_the_runtime_is_refused_with_one_line(int limit, params string[] args)
    {
        if (!OperatingSystem.IsLinux() || !ServerProcess.IsOnPath("prlimit"))
        {
            output.WriteLine("skipped: needs Linux and prlimit (util-linux)");
            return;
        }

        using var server = ServerProcess.StartUnder(["prlimit", $"--nofile={limit}"], ["--port", "0", .. args]);

        Assert.Equal(2, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var line = Assert.Single(server.Stderr);
        Assert.Matches($@"^echo-server: --max-connections 1 needs about \d+ file descriptors but the process may open only {limit} \(hard limit {limit}\);", line);
        Assert.Empty(server.Stdout);
    }

    [Fact]
    public async Task With_a_small_descriptor_limit_the_default_connection_limit_is_lowered_and_an_explicit_one_is_refused()
    {
        if (!OperatingSystem.IsLinux() || !ServerProcess.IsOnPath("prlimit"))
        {
            output.WriteLine("skipped: needs Linux and prlimit (util-linux)");
            return;
        }

        int fits = 2000 - StartupChecks.ReservedDescriptors;
        using (var server = ServerProcess.StartUnder(["prlimit", "--nofile=2000"], ["--port", "0"]))
        {
            await server.WaitForListeningAsync();
            Assert.Contains(server.Stdout, l => l.Contains($"max-connections={fits},", StringComparison.Ordinal) && l.Contains("Listening on", StringComparison.Ordinal));
            await Eventually.True(() => server.Stdout.Any(l => l.Contains($"--max-connections lowered from its default 10000 to {fits}: the file descriptor limit is 2000", StringComparison.Ordinal)), "the warning that the default was lowered");
            server.Terminate();
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }

        using var strict = ServerProcess.StartUnder(["prlimit", "--nofile=2000"], ["--port", "0", "--max-connections", "10000"]);
        Assert.Equal(2, await strict.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.StartsWith("echo-server: --max-connections 10000 needs about ", Assert.Single(strict.Stderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_worker_threads_than_the_machine_allows_are_refused_with_one_line()
    {
        const int workers = 100_000;
        if (ThreadLimits.Read() is not { } limits || StartupChecks.WorkerThreadsError(workers, limits) is null)
        {
            output.WriteLine($"skipped: this machine's limits are unknown or allow {workers} threads");
            return;
        }

        using var server = ServerProcess.Start("--port", "0", "--pool", "workers", "--workers", "100000");

        Assert.Equal(2, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var line = Assert.Single(server.Stderr);
        Assert.StartsWith("echo-server: --workers 100000 needs 100000 threads but ", line, StringComparison.Ordinal);
        Assert.Empty(server.Stdout);
    }
}
