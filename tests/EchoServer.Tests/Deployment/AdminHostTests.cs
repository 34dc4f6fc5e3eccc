using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace EchoServer.Tests.Deployment;

/// <summary>--admin-host: where the admin endpoint listens, so that a balancer on another host can reach /ready.</summary>
public sealed class AdminHostTests
{
    [Fact]
    internal async Task All_interfaces_make_ready_reachable_on_a_non_loopback_address_that_the_default_does_not_answer_on()
    {
        var external = NonLoopbackAddress();
        await using var everywhere = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0, AdminHost = IPAddress.Any });
        int port = everywhere.Services.GetRequiredService<AdminEndpoint>().Port;

        Assert.Equal("ready\n", await GetReadyAsync(IPAddress.Loopback, port));
        Assert.Contains(everywhere.Logs.Named("AdminListening"), e => e.Message.Contains($"http://0.0.0.0:{port} ", StringComparison.Ordinal));
        if (external is null)
        {
            return; // a machine with loopback only: nothing else to reach it on
        }

        Assert.Equal("ready\n", await GetReadyAsync(external, port));

        await using var loopbackOnly = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0 });
        int loopbackPort = loopbackOnly.Services.GetRequiredService<AdminEndpoint>().Port;
        Assert.Equal("ready\n", await GetReadyAsync(IPAddress.Loopback, loopbackPort));
        Assert.False(Probe.CanConnect(new IPEndPoint(external, loopbackPort)), "the default admin host answers on loopback only");
    }

    [Fact]
    public async Task An_address_this_host_does_not_have_gives_one_line_and_exit_code_1()
    {
        using var server = ServerProcess.Start("--port", "0", "--admin-port", "0", "--admin-host", "203.0.113.7");

        Assert.Equal(1, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var line = Assert.Single(server.Stderr);
        Assert.StartsWith("echo-server: cannot listen on 203.0.113.7:0 (--admin-port): ", line, StringComparison.Ordinal);
    }

    private static async Task<string> GetReadyAsync(IPAddress address, int port)
    {
        using var http = new HttpClient { Timeout = Eventually.Soon };
        return await http.GetStringAsync(new Uri($"http://{new IPEndPoint(address, port)}/ready"));
    }

    private static IPAddress? NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
}
