using System.Net;
using System.Net.Sockets;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>--udp on the real executable: TCP and UDP on one port at once, and a client no one here wrote (socat).</summary>
public sealed class UdpExecutableTests
{
    [Theory]
    [InlineData("workers")]
    [InlineData("executor")]
    public async Task Tcp_and_udp_echo_on_the_same_port_at_once_and_socat_gets_its_datagram_back(string pool)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // socat and SIGTERM: the test is Linux's
        }

        string socat = await DebianTool.LocateAsync("socat", "This test sends a datagram with socat", "socat");
        using var server = ServerProcess.Start("--port", "0", "--pool", pool, "--udp");
        var endPoint = await server.WaitForListeningAsync(TimeSpan.FromSeconds(60));
        await Eventually.True(() => server.Stdout.Any(l => l.Contains($"UDP echo on 127.0.0.1:{endPoint.Port}", StringComparison.Ordinal)), "the UDP start line", TimeSpan.FromSeconds(60));

        using var tcp = await EchoClient.ConnectAsync(endPoint);
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var buffer = new byte[100];
        for (int i = 0; i < 20; i++)
        {
            byte[] message = [.. "round "u8, (byte)('a' + i)];
            await udp.SendToAsync(message, endPoint);
            Assert.Equal(message, await tcp.RoundTripAsync(message));
            int n = await Eventually.Completes(udp.ReceiveAsync(buffer), $"UDP reply {i}");
            Assert.Equal(message, buffer[..n]);
        }

        var result = await Command.RunAsync(socat, ["-t", "2", "-", $"UDP:127.0.0.1:{endPoint.Port}"], TimeSpan.FromSeconds(20), input: "hello over udp\n");
        Assert.NotNull(result);
        Assert.Equal("hello over udp\n", result.Stdout);

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Empty(server.Stderr);
    }

    [Fact]
    public async Task A_udp_port_in_use_fails_start_up_with_one_line_before_anything_is_announced()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // A UDP port taken whose TCP twin is free (other tests' TCP sockets use the same range).
        using var taken = TakeUdpPortWithFreeTcpTwin();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        using var server = ServerProcess.Start("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--udp");
        Assert.NotEqual(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain(server.Stdout, l => l.Contains("Listening on", StringComparison.Ordinal));
        Assert.Contains(server.Stderr.Concat(server.Stdout), l => l.Contains($"Cannot bind UDP 127.0.0.1:{port}", StringComparison.Ordinal));
    }

    private static Socket TakeUdpPortWithFreeTcpTwin()
    {
        for (int attempt = 0; ; attempt++)
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)udp.LocalEndPoint!).Port));
                return udp;
            }
            catch (SocketException) when (attempt < 100)
            {
                udp.Dispose();
            }
        }
    }
}
