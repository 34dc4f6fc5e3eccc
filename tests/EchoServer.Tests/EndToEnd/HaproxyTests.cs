using System.Net;
using System.Net.Sockets;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>The real executable behind real HAProxy, the way it runs in production with --proxy-protocol.</summary>
public sealed class HaproxyTests
{
    [Fact]
    public async Task Behind_haproxy_send_proxy_v2_and_send_proxy_the_accept_line_names_the_clients_own_endpoint()
    {
        using var server = ServerProcess.Start("--port", "0", "--proxy-protocol");
        var echo = await server.WaitForListeningAsync();
        using var haproxy = await Haproxy.StartAsync(echo, "send-proxy-v2", "send-proxy");

        foreach (var frontend in haproxy.Frontends)
        {
            // From 127.0.0.2, so that the client's address differs from HAProxy's (127.0.0.1) as well as its port.
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            await client.ConnectAsync(frontend);
            var payload = "through HAProxy"u8.ToArray();
            await client.SendAsync(payload, SocketFlags.None);
            var echoed = new byte[payload.Length];
            using var timeout = new CancellationTokenSource(Eventually.Soon);
            for (int read = 0; read < echoed.Length;)
            {
                int n = await client.ReceiveAsync(echoed.AsMemory(read), SocketFlags.None, timeout.Token);
                Assert.True(n > 0, "HAProxy or the server closed before the echo");
                read += n;
            }

            Assert.Equal(payload, echoed);
            string accepted = $"accepted from {client.LocalEndPoint} (pool=executor)";
            await Eventually.True(() => server.Stdout.Any(l => l.Contains(accepted, StringComparison.Ordinal)), $"the server's line '{accepted}'; it logged:\n{string.Join('\n', server.Stdout)}");
        }

        Assert.DoesNotContain(server.Stdout, l => l.Contains("proxy-header", StringComparison.Ordinal));
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Echo_loads_header_read_by_haproxy_accept_proxy_reaches_the_server_naming_the_proxy_source()
    {
        using var server = ServerProcess.Start("--port", "0", "--proxy-protocol");
        var echo = await server.WaitForListeningAsync();

        // echo-load → HAProxy (reads echo-load's header, sends its own v2) → echo-server: the client named is echo-load's --proxy-source.
        using var haproxy = await Haproxy.StartBindingAsync(echo, "accept-proxy", "send-proxy-v2");
        string port = haproxy.Frontends[0].Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (version, source) in new[] { ("v1", "203.0.113.7"), ("v2", "203.0.113.8") })
        {
            using var load = ServerProcess.StartTool("echo-load.dll", "--port", port, "--mode", "connect", "-c", "2", "-n", "10", "--proxy-protocol", version, "--proxy-source", $"{source}:0", "--progress", "0");
            Assert.True(0 == await load.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"echo-load {version} through HAProxy:\n{string.Join('\n', load.Stdout.Concat(load.Stderr))}\nHAProxy:\n{haproxy.Output}");
            await Eventually.True(() => server.Stdout.Count(l => l.Contains($"accepted from {source}:", StringComparison.Ordinal)) == 10, $"ten accept lines naming {source}; the server logged:\n{string.Join('\n', server.Stdout)}");
        }

        Assert.DoesNotContain(server.Stdout, l => l.Contains("proxy-header", StringComparison.Ordinal));
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }
}
