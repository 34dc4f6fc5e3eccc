using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>Values that used to crash the real executables, or to mean something other than what was typed.</summary>
public sealed class ArgumentSafetyTests
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("--idle-timeout", "NaN")]
    [InlineData("--send-timeout", "-NaN")]
    [InlineData("--queue-timeout", "NaNms")]
    [InlineData("--stats-interval", "nan")]
    [InlineData("--log-level", "99")]
    [InlineData("--host", "0x10")]
    public async Task A_value_that_is_no_value_gives_one_line_and_exit_code_2(string option, string value)
    {
        using var server = ServerProcess.Start("--port", "0", option, value);

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.StartsWith($"echo-server: {option} takes ", Assert.Single(server.Stderr), StringComparison.Ordinal);
        Assert.Empty(server.Stdout);
    }

    [Fact]
    public async Task A_drain_delay_and_shutdown_timeout_no_timer_can_hold_together_are_refused_at_start()
    {
        using var server = ServerProcess.Start("--port", "0", "--drain-delay", "20h", "--shutdown-timeout", "1176h");

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal("echo-server: --drain-delay and --shutdown-timeout take at most 1176h (49 days) together, the longest a timer can wait (got 20h + 1176h). See --help.", Assert.Single(server.Stderr));
    }

    [Fact]
    public async Task The_longest_drain_delay_and_shutdown_timeout_accepted_together_still_stop_cleanly()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        using var server = ServerProcess.Start("--port", "0", "--drain-delay", "1h", "--shutdown-timeout", "1175h");
        await server.WaitForListeningAsync();

        server.Terminate();
        await Eventually.True(() => server.Stdout.Any(l => l.Contains("Stop requested", StringComparison.Ordinal)), "the drain delay's line");
        server.Terminate(); // a second SIGTERM ends the drain delay

        Assert.Equal(0, await server.WaitForExitAsync(ExitWithin));
        Assert.Contains(server.Stdout, l => l.Contains("Stopped after", StringComparison.Ordinal));
        Assert.Empty(server.Stderr);
    }

    [Theory]
    [InlineData("echo-server.dll")]
    [InlineData("echo-load.dll")]
    public async Task An_at_sign_argument_is_not_read_as_a_response_file(string program)
    {
        string secret = $"first-line-of-a-private-file-{Guid.NewGuid():N}";
        string path = Path.Combine(Path.GetTempPath(), $"echo-args-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(path, secret + "\n");
        try
        {
            using var process = ServerProcess.StartTool(program, "@" + path);

            Assert.Equal(2, await process.WaitForExitAsync(ExitWithin));
            string line = Assert.Single(process.Stderr);
            Assert.DoesNotContain(secret, line, StringComparison.Ordinal);
            Assert.Contains("@" + path, line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_usage_error_exits_2_even_when_stderr_cannot_be_written()
    {
        if (!File.Exists("/dev/full"))
        {
            return; // /dev/full is Linux's always-full device
        }

        using var server = ServerProcess.StartUnder(["/bin/sh", "-c", "exec \"$@\" 2>/dev/full", "sh"], "--bogus");

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Empty(server.Stdout);
    }
}
