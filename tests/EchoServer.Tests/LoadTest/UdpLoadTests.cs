using System.Globalization;
using System.Net;
using System.Text.Json;
using EchoServer.Datagrams;
using EchoServer.Diagnostics;
using EchoServer.LoadTest;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoServer.Tests.LoadTest;

/// <summary>
/// echo-load --udp against the server's UDP echo (both pools), and against echoes that drop, delay, duplicate,
/// reorder and corrupt on purpose: each statistic counts exactly what it claims, and the exit code follows.
/// </summary>
public sealed class UdpLoadTests
{
    [Theory]
    [InlineData(PoolKind.Workers, 4, 1000, null)]
    [InlineData(PoolKind.Executor, 4, 1000, null)]
    [InlineData(PoolKind.Workers, 4, 64, 2000.0)]
    [InlineData(PoolKind.Executor, 4, 64, 2000.0)]
    [InlineData(PoolKind.Workers, 1, LoadRunner.DatagramHeader, null)]
    [InlineData(PoolKind.Executor, 1, LoadRunner.MaxDatagram, null)] // one at a time: four would overflow the server socket's default receive buffer
    internal async Task Every_datagram_comes_back_from_the_server_byte_exact_and_none_is_lost(PoolKind pool, int sockets, int size, double? rate)
    {
        using var echo = new UdpEcho(new IPEndPoint(IPAddress.Loopback, 0), reusePort: false, new UdpSettings { RatePerIp = 0 }, pool, new PoolSettings { Workers = 4 }, NullLogger.Instance, new BackgroundFaults(NullLogger.Instance), TimeProvider.System);
        echo.Start();
        const int Datagrams = 400;

        var report = await RunAsync(echo.LocalEndPoint, o => o with { Connections = sockets, MessageSize = size, Messages = Datagrams, Rate = rate });

        Assert.Equal(LoadExitCodes.Ok, report.ExitCode);
        Assert.Empty(report.Errors);
        Assert.Equal("udp", report.Transport);
        Assert.Equal(Datagrams, report.DatagramsSent);
        Assert.Equal(Datagrams, report.Messages);
        Assert.Equal(Datagrams, report.DatagramsReceived);
        Assert.Equal(Datagrams * (long)size, report.Bytes);
        Assert.Equal(Datagrams, report.LatencyUs.Count);
        Assert.Equal(0, report.DatagramsLost);
        Assert.Equal(0, report.DatagramsDuplicated);
        Assert.Equal(sockets, report.ConnectionsAnswered);
        await Eventually.True(() => echo.Counters.Echoed == Datagrams, "the server to count 400 echoed"); // counted after its send
        Assert.Contains("  datagrams    sent 400, answered 400, lost 0 (0%), duplicated 0", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_socket_that_never_answers_is_every_datagram_lost_and_exit_code_4()
    {
        using var silent = new UdpTestResponder((_, _) => []);
        string json = Path.Combine(Path.GetTempPath(), $"echo-load-udp-{Guid.NewGuid():N}.json");
        try
        {
            using var load = ServerProcess.StartTool("echo-load.dll", "--udp", "--port", silent.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "-c", "2", "-d", "1", "--reply-timeout", "200ms", "--progress", "0", "--json", json);

            Assert.Equal(LoadExitCodes.Unanswered, await load.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains(load.Stdout, l => l == "  unanswered   2 of 2 connections never got a reply");
            Assert.Contains(load.Stdout, l => l == "  errors       none");
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            long sent = report.RootElement.GetProperty("datagramsSent").GetInt64();
            Assert.True(sent >= 2, $"{sent} datagrams sent");
            Assert.Equal(sent, report.RootElement.GetProperty("datagramsLost").GetInt64());
            Assert.Equal(0, report.RootElement.GetProperty("messages").GetInt64());
            Assert.True(silent.Received >= sent, $"{silent.Received} received of {sent} sent");
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    internal async Task A_reply_sent_twice_is_a_duplicate_and_an_error()
    {
        // The first ten datagrams come back twice; ping-pong sends the next only after the first copy.
        using var doubling = new UdpTestResponder((seq, data) => seq < 10 ? [(data, TimeSpan.Zero), (data, TimeSpan.Zero)] : UdpTestResponder.Echo(data));

        var report = await RunAsync(doubling.EndPoint, o => o with { Messages = 100 });

        Assert.Equal(10, report.DatagramsDuplicated);
        Assert.Equal(100, report.Messages);
        Assert.Equal(110, report.DatagramsReceived);
        Assert.Equal(0, report.DatagramsLost);
        Assert.Equal(0, report.DatagramsReordered);
        Assert.Empty(report.Errors);
        Assert.Equal(LoadExitCodes.Errors, report.ExitCode);
    }

    [Fact]
    internal async Task A_reply_held_back_behind_the_next_one_is_reordered_and_no_error()
    {
        // Open loop, so that datagram 6 is sent while 5 waits: 5's reply goes out right after 6's.
        byte[]? held = null;
        using var swapping = new UdpTestResponder((seq, data) =>
        {
            switch (seq)
            {
                case 5:
                    held = data;
                    return [];
                case 6:
                    return [(data, TimeSpan.Zero), (held!, TimeSpan.Zero)];
                default:
                    return UdpTestResponder.Echo(data);
            }
        });

        var report = await RunAsync(swapping.EndPoint, o => o with { Messages = 50, Rate = 500 });

        Assert.Equal(1, report.DatagramsReordered);
        Assert.Equal(50, report.Messages);
        Assert.Equal(0, report.DatagramsLost);
        Assert.Equal(0, report.DatagramsDuplicated);
        Assert.Equal(LoadExitCodes.Ok, report.ExitCode);
    }

    [Fact]
    internal async Task A_wrong_byte_is_a_mismatch_and_exit_code_3()
    {
        using var corrupting = new UdpTestResponder((seq, data) =>
        {
            if (seq == 7)
            {
                data[^1] ^= 0x20;
            }

            return UdpTestResponder.Echo(data);
        });

        var report = await RunAsync(corrupting.EndPoint, o => o with { Messages = 50 });

        Assert.Equal(1, report.Errors["mismatch"]);
        Assert.Equal(49, report.Messages);
        Assert.Equal(0, report.DatagramsLost);
        Assert.Equal(LoadExitCodes.Mismatch, report.ExitCode);
    }

    [Fact]
    internal async Task A_reply_later_than_the_timeout_is_lost_then_late_and_exit_code_4()
    {
        // Datagram 3 comes back after 600 ms, three times the reply timeout, while the run (100 at 100/s) goes on.
        using var slow = new UdpTestResponder((seq, data) => [(data, seq == 3 ? TimeSpan.FromMilliseconds(600) : TimeSpan.Zero)]);

        var report = await RunAsync(slow.EndPoint, o => o with { Messages = 100, Rate = 100, ReplyTimeout = TimeSpan.FromMilliseconds(200) });

        Assert.Equal(1, report.DatagramsLost);
        Assert.Equal(1, report.DatagramsLate);
        Assert.Equal(99, report.Messages);
        Assert.Equal(100, report.DatagramsReceived);
        Assert.Empty(report.Errors);
        Assert.Equal(LoadExitCodes.Unanswered, report.ExitCode);
        Assert.Contains("lost 1 of 100 datagrams", report.Problems(), StringComparison.Ordinal);
    }

    [Fact]
    internal async Task A_reply_held_back_behind_more_than_the_window_is_lost_then_late_and_the_run_still_ends()
    {
        // Datagram 0 comes back only after datagram 20 arrives: beyond the 16 the socket keeps in flight here (1,024
        // by default). The sender waits for slot 0 rather than overwrite it; after the timeout 0 is lost, the rest go on.
        byte[]? held = null;
        using var holding = new UdpTestResponder((seq, data) =>
        {
            switch (seq)
            {
                case 0:
                    held = data;
                    return [];
                case 20:
                    return [(held!, TimeSpan.Zero), (data, TimeSpan.Zero)];
                default:
                    return UdpTestResponder.Echo(data);
            }
        });

        var report = await RunAsync(holding.EndPoint, o => o with { Messages = 40, Rate = 1000, UdpWindow = 16, ReplyTimeout = TimeSpan.FromSeconds(1) });

        Assert.Equal(1, report.DatagramsLost);
        Assert.Equal(1, report.DatagramsLate);
        Assert.Equal(39, report.Messages);
        Assert.Equal(40, report.DatagramsSent);
        Assert.Equal(LoadExitCodes.Unanswered, report.ExitCode);
    }

    [Fact]
    internal async Task A_closed_port_is_refused_lost_and_retried_after_a_back_off_not_in_a_spin()
    {
        // Nothing listens: each datagram draws an ICMP port unreachable, which a connected UDP socket reports.
        IPEndPoint closed;
        using (var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closed = (IPEndPoint)probe.LocalEndPoint!;
        }

        var report = await RunAsync(closed, o => o with { Duration = TimeSpan.FromSeconds(1) });

        Assert.Equal(LoadExitCodes.Errors, report.ExitCode);
        Assert.True(report.Errors["connect-refused"] >= 1);
        Assert.Equal(report.DatagramsSent, report.DatagramsLost); // sent = answered + lost, and none answered
        Assert.InRange(report.DatagramsSent!.Value, 1, 50); // a back-off from 10 ms doubling: a handful in a second, not thousands
    }

    private static async Task<LoadReport> RunAsync(IPEndPoint target, Func<LoadOptions, LoadOptions> configure)
    {
        var options = configure(new LoadOptions { Udp = true, Port = target.Port, Connections = 1, ReplyTimeout = TimeSpan.FromSeconds(5), ProgressInterval = TimeSpan.Zero });
        return await Eventually.Completes(new LoadRunner(options, target).RunAsync(null, CancellationToken.None), "the UDP run", TimeSpan.FromSeconds(60));
    }
}
