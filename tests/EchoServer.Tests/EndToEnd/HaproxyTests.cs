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
}
