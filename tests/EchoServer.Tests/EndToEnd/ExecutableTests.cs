using System.Net;
using System.Net.Sockets;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>The built executable, started as a user would start it.</summary>
public sealed class ExecutableTests
{
    [Theory]
    [InlineData("workers")]
    [InlineData("executor")]
    [InlineData("executor", "--inline-completions=false")]
    public async Task Starts_on_an_ephemeral_port_echoes_and_exits_0_on_SIGTERM_with_a_summary(string pool, string extra = "--log-format=simple")
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal; Windows has no equivalent to send a console process.
        }

        using var server = ServerProcess.Start("--port", "0", "--pool", pool, extra);
        var endPoint = await server.WaitForListeningAsync();
        Assert.Contains("Listening on 127.0.0.1:", server.Stdout[0], StringComparison.Ordinal);
        Assert.EndsWith($"(pool={pool}, workers=128, queue=1024, max-connections=10000, pid={server.Id})", server.Stdout[0], StringComparison.Ordinal);

        using (var client = await EchoClient.ConnectAsync(endPoint))
        {
            Assert.Equal("hello\r\n"u8.ToArray(), await client.RoundTripAsync("hello\r\n"u8.ToArray()));
        }

        server.Terminate();

        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(server.Stdout, l => l.Contains("Stopped after", StringComparison.Ordinal) && l.Contains("connections served 1,", StringComparison.Ordinal));
        Assert.Empty(server.Stderr);
    }

    [Fact]
    public async Task The_longest_durations_accepted_start_serve_and_stop_cleanly()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        using var server = ServerProcess.Start("--port", "0", "--shutdown-timeout", "1176h", "--stats-interval", "1176h", "--idle-timeout", "1176h", "--send-timeout", "1176h", "--queue-timeout", "1176h");
        var endPoint = await server.WaitForListeningAsync();
        using (var client = await EchoClient.ConnectAsync(endPoint))
        {
            Assert.Equal("x"u8.ToArray(), await client.RoundTripAsync("x"u8.ToArray()));
        }

        server.Terminate();

        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Empty(server.Stderr);
    }

    [Theory]
    [InlineData("--port", "70000")]
    [InlineData("--workers", "0")]
    [InlineData("--pool", "fibers")]
    [InlineData("--buffer-size", "-5")]
    [InlineData("--queue", "-1")]
    [InlineData("--host", "not-an-address")]
    [InlineData("--no-such-option")]
    [InlineData("--port", "abc")]
    [InlineData("--port", "")]
    [InlineData("--port", "99999999999999999999")]
    [InlineData("--workers", "1e3")]
    [InlineData("--admin-port", "abc")]
    [InlineData("--stats-interval", "1200h")]
    [InlineData("--shutdown-timeout", "1500h")]
    [InlineData("--proxy-protocol", "--trusted-proxies", "10.0.0.0/8,not-a-range")]
    [InlineData("--proxy-protocol", "sometimes")]
    [InlineData("--io-engine", "epoll")]
    [InlineData("--pool", "workers", "--io-engine", "io_uring")]
    public async Task Bad_input_gives_one_line_on_stderr_and_a_non_zero_exit(params string[] args)
    {
        using var server = ServerProcess.Start(args);

        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(server.Stderr);
        Assert.StartsWith("echo-server: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Stdout.Concat(server.Stderr), l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("-c", "abc")]
    [InlineData("--port", "")]
    [InlineData("--pipeline", "1.5")]
    [InlineData("--proxy-protocol", "v3")]
    [InlineData("--proxy-protocol", "v1", "--proxy-source", "203.0.113.7")]
    [InlineData("--proxy-protocol", "v2", "--proxy-source", "2001:db8::7:40000")]
    [InlineData("--proxy-source", "203.0.113.7:40000")]
    [InlineData("--udp", "--proxy-protocol", "v1")]
    public async Task Load_tool_bad_input_gives_one_line_on_stderr_and_exit_code_2(params string[] args)
    {
        using var load = ServerProcess.StartTool("echo-load.dll", args);

        Assert.Equal(2, await load.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var line = Assert.Single(load.Stderr);
        Assert.StartsWith("echo-load: ", line, StringComparison.Ordinal);
        Assert.Empty(load.Stdout);
    }

    [Fact]
    public async Task A_port_already_in_use_gives_one_line_and_exit_code_1()
    {
        using var taken = ListenOnAFreePort(out int port);

        using var server = ServerProcess.Start("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var line = Assert.Single(server.Stderr);
        Assert.Equal($"echo-server: cannot listen on 127.0.0.1:{port}: Address already in use", line);
        Assert.Empty(server.Stdout);
    }

    [Fact]
    public async Task An_admin_port_already_in_use_gives_one_line_and_exit_code_1()
    {
        using var taken = ListenOnAFreePort(out int port);

        using var server = ServerProcess.Start("--port", "0", "--admin-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var line = Assert.Single(server.Stderr);
        Assert.Equal($"echo-server: cannot listen on 127.0.0.1:{port} (--admin-port): Address already in use", line);

        // Nothing was announced: no "Listening on" for a script or a supervisor to believe, no accept warning.
        Assert.Empty(server.Stdout);
    }

    [Fact]
    public async Task A_port_in_use_on_IPv6_is_written_in_brackets()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return;
        }

        using var taken = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        using var server = ServerProcess.Start("--host", "::", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"echo-server: cannot listen on [::]:{port}: Address already in use", Assert.Single(server.Stderr));
    }

    [Fact]
    public async Task An_admin_port_equal_to_the_echo_port_gives_one_line_and_exit_code_1()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        string text = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var server = ServerProcess.Start("--port", text, "--admin-port", text);

        Assert.Equal(1, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var line = Assert.Single(server.Stderr);
        Assert.Equal($"echo-server: cannot listen on 127.0.0.1:{port} (--admin-port): Address already in use (the echo listener holds it: --port {port})", line);
    }

    [Fact]
    public async Task The_pid_file_holds_the_pid_once_listening_and_is_removed_at_a_clean_exit()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        string path = Path.Combine(Path.GetTempPath(), $"echo-server-{Guid.NewGuid():N}.pid");
        using var server = ServerProcess.Start("--port", "0", "--pid-file", path);
        await server.WaitForListeningAsync();

        Assert.Equal($"{server.Id}\n", await File.ReadAllTextAsync(path));
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.False(File.Exists(path), "the pid file is still there after a clean exit");
        Assert.Empty(server.Stderr);
    }

    [Fact]
    public async Task A_pid_file_that_cannot_be_written_gives_one_line_and_exit_code_1()
    {
        string path = Path.Combine(Path.GetTempPath(), $"no-such-folder-{Guid.NewGuid():N}", "echo-server.pid");
        using var server = ServerProcess.Start("--port", "0", "--pid-file", path);

        Assert.Equal(1, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var line = Assert.Single(server.Stderr);
        Assert.StartsWith($"echo-server: cannot write --pid-file {path}: ", line, StringComparison.Ordinal);
        Assert.Empty(server.Stdout);
    }

    [Fact]
    public async Task Help_lists_every_option_with_its_default()
    {
        using var server = ServerProcess.Start("--help");

        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        string help = string.Join('\n', server.Stdout);
        foreach (var option in new[] { "--host", "--port", "--backlog", "--max-connections", "--pool", "--workers", "--queue", "--when-full", "--queue-timeout", "--buffer-size", "--idle-timeout", "--send-timeout", "--max-connections-per-ip", "--trusted-proxies", "--shutdown-timeout", "--log-level", "--log-format" })
        {
            Assert.Matches($@"(?m)^\s+{option} .*\[default: [^\]]+\]", help);
        }
    }

    [Fact]
    public async Task A_connection_limit_the_descriptor_limit_cannot_hold_is_refused_at_start()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // ulimit is a Unix limit
        }

        using var server = ServerProcess.Start(256, "--port", "0", "--max-connections", "1000");

        Assert.Equal(2, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var line = Assert.Single(server.Stderr);
        Assert.Equal("echo-server: --max-connections 1000 needs about 1144 file descriptors but the process may open only 256 (hard limit 256); lower --max-connections or raise the limit (ulimit -n).", line);
    }

    [Fact]
    public async Task A_connection_limit_within_the_descriptor_limit_starts_and_logs_the_limit()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // ulimit is a Unix limit
        }

        using var server = ServerProcess.Start(256, "--port", "0", "--max-connections", "100", "--workers", "200");
        await server.WaitForListeningAsync();
        await Eventually.True(() => server.Stdout.Count >= 3, "the start-up lines");

        Assert.Contains("File descriptor limit 256 (max-connections=100)", server.Stdout[1], StringComparison.Ordinal);
        Assert.Contains("warn: EchoServer.Lifecycle[15] --max-connections 100 is below --workers 200", server.Stdout[2], StringComparison.Ordinal);
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>A loopback listener on a port the system picked, standing in for another program holding it.</summary>
    private static Socket ListenOnAFreePort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen();
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }
}
