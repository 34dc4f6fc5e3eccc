using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EchoServer.LoadTest;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.LoadTest;

/// <summary>echo-load against the real server in-process, and against a server that corrupts.</summary>
public sealed class LoadRunnerTests
{
    [Theory]
    [InlineData(PoolKind.Workers, 1, 64)]
    [InlineData(PoolKind.Executor, 4, 1024)]
    internal async Task A_one_second_echo_run_reports_verified_messages_and_latency(PoolKind pool, int pipeline, int size)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning });
        var options = new LoadOptions { Port = server.EndPoint.Port, Connections = 4, MessageSize = size, Pipeline = pipeline, Duration = TimeSpan.FromSeconds(1), ProgressInterval = TimeSpan.Zero };

        var report = await new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None);

        Assert.Empty(report.Errors);
        Assert.True(report.Messages > 100, $"only {report.Messages} messages in a second");
        Assert.Equal(report.Messages * size, report.Bytes);
        Assert.Equal(report.Messages, report.LatencyUs.Count);
        Assert.InRange(report.Seconds, 0.9, 5);
        Assert.True(report.LatencyUs.P50 > 0 && report.LatencyUs.P50 <= report.LatencyUs.P99 && report.LatencyUs.P99 <= report.LatencyUs.Max);
        Assert.InRange(report.MessagesPerSecond, report.Messages / report.Seconds * 0.99, report.Messages / report.Seconds * 1.01);

        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(report.Messages, json.RootElement.GetProperty("messages").GetInt64());
        Assert.Equal("echo", json.RootElement.GetProperty("mode").GetString());
        Assert.Contains("latency µs   p50", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    internal async Task A_message_count_run_echoes_exactly_that_many()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor);
        var options = new LoadOptions { Port = server.EndPoint.Port, Connections = 7, Messages = 1000, Pipeline = 3, ProgressInterval = TimeSpan.Zero };

        var report = await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), "1000 messages");

        Assert.Equal(1000, report.Messages);
        Assert.Empty(report.Errors);
    }

    [Fact]
    internal async Task Connect_mode_counts_connect_echo_close_cycles()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Workers, o => o with { LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning });
        var options = new LoadOptions { Port = server.EndPoint.Port, Mode = LoadMode.Connect, Connections = 5, Messages = 200, ProgressInterval = TimeSpan.Zero };

        var report = await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), "200 cycles");

        Assert.Empty(report.Errors);
        Assert.Equal(200, report.Messages);
        Assert.True(report.ConnectionsPerSecond > 0);
        await Eventually.True(() => server.Service.Counters.Served == 200, "the server to have served 200 connections");
    }

    [Fact]
    internal async Task Hold_mode_keeps_every_connection_open_and_verified()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(500, 10) });
        var options = new LoadOptions { Port = server.EndPoint.Port, Mode = LoadMode.Hold, Connections = 300, Duration = TimeSpan.FromSeconds(1), ProgressInterval = TimeSpan.Zero };

        var run = new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None);
        await Eventually.True(() => server.Service.Counters.Active == 300, "300 connections open at once");
        var report = await Eventually.Completes(run, "the hold run");

        Assert.Empty(report.Errors);
        Assert.Equal(300, report.ConnectionsHeld);
    }

    [Fact]
    internal async Task The_warm_up_waits_until_every_connection_has_connected()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // a full accept queue drops SYNs (the client tries again a second later) on Linux; elsewhere it may refuse
        }

        // An accept queue of two that nobody empties at first: the third and fourth connects wait for the SYN's resend.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        var options = new LoadOptions
        {
            Port = endPoint.Port, Connections = 4, Warmup = TimeSpan.FromMilliseconds(100), Duration = TimeSpan.FromMilliseconds(200),
            ConnectTimeout = TimeSpan.FromSeconds(30), ProgressInterval = TimeSpan.Zero,
        };

        var run = new LoadRunner(options, endPoint).RunAsync(null, CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(800)); // longer than the whole run would take if it began at once
        var serving = EchoEveryConnectionAsync(listener);
        var report = await Eventually.Completes(run, "the run");

        // Measured only once all four were open: each was answered, none left behind by the connect phase.
        Assert.Empty(report.Errors);
        Assert.Equal(0, report.ConnectionsUnanswered);
        Assert.True(report.Messages > 0, "no message measured");
        listener.Close();
        await serving;
    }

    [Fact]
    public async Task A_server_that_flips_a_byte_is_reported_as_a_mismatch_and_echo_load_exits_non_zero()
    {
        // Echoes like a real server but flips one bit of the byte at stream offset 1000 of every connection.
        const long flipAt = 1000;
        using var corrupter = LoopbackTestServer.Start((_, client) => LoopbackTestServer.EchoAsync(client, (offset, chunk) =>
        {
            if (flipAt >= offset && flipAt < offset + chunk.Length)
            {
                chunk[(int)(flipAt - offset)] ^= 0x01;
            }
        }));
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "echo-load.dll"), "--port", corrupter.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "1", "-n", "100", "--progress", "0" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        await Eventually.Completes(process.WaitForExitAsync(), "echo-load to exit");

        // Each connection sees the flipped byte at stream offset 1000 and is opened again, until 100 messages are echoed.
        Assert.Equal(3, process.ExitCode);
        Assert.Matches(@"errors +mismatch [1-9]", output);
    }

    private static async Task EchoEveryConnectionAsync(Socket listener)
    {
        var echoes = new List<Task>();
        try
        {
            while (true)
            {
                echoes.Add(EchoUntilClosedAsync(await listener.AcceptAsync()));
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            // The listener closed: the test is over.
        }

        await Task.WhenAll(echoes);
    }

    private static async Task EchoUntilClosedAsync(Socket client)
    {
        using (client)
        {
            try
            {
                await LoopbackTestServer.EchoAsync(client);
            }
            catch (SocketException)
            {
                // The client reset the connection at the end of its run.
            }
        }
    }
}
