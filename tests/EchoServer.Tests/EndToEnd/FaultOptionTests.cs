using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>The fault options through the real executable: a bad value is one line and exit code 2; good ones are listed in the start line and acted on.</summary>
public sealed class FaultOptionTests
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("--fault-delay", "soon", "--fault-delay takes a duration such as 10, 500ms, 2s or 1m (got 'soon').")]
    [InlineData("--fault-jitter", "forever", "--fault-jitter takes a duration such as 10, 500ms, 2s or 1m (got 'forever').")]
    [InlineData("--fault-chunk", "1.5KiB", "--fault-chunk takes a size from 0 to 16MiB such as 64 or 1KiB (got '1.5KiB').")]
    [InlineData("--fault-bandwidth", "fast", "--fault-bandwidth takes a size from 0 to 1GiB such as 64KiB or 1MiB (got 'fast').")]
    [InlineData("--fault-close-after", "1.5", "--fault-close-after takes a size from 0 to 1024GiB such as 1000 or 64KiB (got '1.5').")]
    [InlineData("--fault-rate", "1.5", "--fault-rate takes a probability from 0 to 1 such as 0.05 (got '1.5').")]
    [InlineData("--fault-rate", "NaN", "--fault-rate takes a probability from 0 to 1 such as 0.05 (got 'NaN').")]
    [InlineData("--fault-seed", "-3", "--fault-seed must be between 0 and 2147483647 (got -3).")]
    public async Task A_bad_fault_value_gives_one_line_and_exit_code_2(string option, string value, string message)
    {
        using var server = ServerProcess.Start("--port", "0", option, value);

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal($"echo-server: {message} See --help.", Assert.Single(server.Stderr));
        Assert.Empty(server.Stdout);
    }

    [Theory]
    [InlineData("--fault-close-after and --fault-reset-after end a connection two ways: give one of them.", "--fault-close-after", "10", "--fault-reset-after", "10")]
    [InlineData("--fault-stall-after and --fault-stall-for go together: after how many bytes, and for how long.", "--fault-stall-after", "10")]
    [InlineData("--fault-stall-after and --fault-stall-for go together: after how many bytes, and for how long.", "--fault-stall-for", "1s")]
    [InlineData("--fault-drop and --fault-duplicate act on datagrams: they need --udp.", "--fault-drop", "0.5")]
    [InlineData("--fault-drop and --fault-duplicate act on datagrams: they need --udp.", "--fault-duplicate", "0.1")]
    public async Task Fault_options_that_do_not_go_together_give_one_line_and_exit_code_2(string message, params string[] args)
    {
        using var server = ServerProcess.Start(["--port", "0", .. args]);

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal($"echo-server: {message} See --help.", Assert.Single(server.Stderr));
    }

    [Fact]
    public async Task The_start_line_lists_the_faults_in_force_and_a_faulted_connection_says_so_when_it_closes()
    {
        using var server = ServerProcess.Start("--port", "0", "--fault-close-after", "4", "--fault-delay", "20ms", "--fault-seed", "7");
        var endPoint = await server.WaitForListeningAsync();
        Assert.Contains(server.Stdout, l => l.Contains("with faults: delay=20ms, close-after=4, rate=1, seed=7", StringComparison.Ordinal));

        using (var client = await EchoClient.ConnectAsync(endPoint))
        {
            await client.Socket.SendAsync("hello\n"u8.ToArray());
            Assert.Equal("hell"u8.ToArray(), await client.ReadToEndAsync());
        }

        await Eventually.True(() => server.Stdout.Any(l => l.Contains("reason=fault", StringComparison.Ordinal) && l.Contains("fault=delay+close-after", StringComparison.Ordinal)), "the close line");
    }

    [Fact]
    public async Task Without_faults_the_start_line_has_none()
    {
        using var server = ServerProcess.Start("--port", "0");
        await server.WaitForListeningAsync();
        Assert.DoesNotContain(server.Stdout, l => l.Contains("faults", StringComparison.Ordinal));
    }
}
