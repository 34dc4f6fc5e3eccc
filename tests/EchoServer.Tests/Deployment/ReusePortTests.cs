using System.Globalization;
using System.Net.Sockets;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Deployment;

/// <summary>--reuse-port: several servers share one port and the kernel spreads connections across them; without it a taken port still fails.</summary>
public sealed class ReusePortTests
{
    private const int Clients = 40;

    [Fact]
    internal async Task Two_servers_with_reuse_port_on_one_port_both_accept_and_echo()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return; // SO_REUSEPORT
        }

        await using var first = await TestServer.StartAsync(PoolKind.Executor, o => o with { ReusePort = true });
        await using var second = await TestServer.StartAsync(PoolKind.Workers, o => o with { ReusePort = true, Port = first.EndPoint.Port });

        for (int i = 0; i < Clients; i++)
        {
            using var client = await EchoClient.ConnectAsync(first.EndPoint);
            Assert.Equal([(byte)i], await client.RoundTripAsync([(byte)i]));
        }

        await Eventually.True(() => first.Service.Counters.Accepted + second.Service.Counters.Accepted == Clients, "every client counted by one of the two");
        Assert.True(first.Service.Counters.Accepted > 0 && second.Service.Counters.Accepted > 0,
            $"connections spread: {first.Service.Counters.Accepted} and {second.Service.Counters.Accepted}");
    }

    [Fact]
    internal async Task Reuse_port_on_one_side_only_still_fails_with_address_in_use()
    {
        await using var first = await TestServer.StartAsync(PoolKind.Executor, o => o with { ReusePort = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() });

        var ex = await Assert.ThrowsAsync<SocketException>(() => TestServer.StartAsync(new ServerOptions { Port = first.EndPoint.Port }));
        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketErrorCode);
    }

    [Fact]
    public async Task Two_executables_with_reuse_port_share_the_port_and_both_log_connections()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return; // SO_REUSEPORT
        }

        using var first = ServerProcess.Start("--port", "0", "--reuse-port");
        var endPoint = await first.WaitForListeningAsync();
        using var second = ServerProcess.Start("--port", endPoint.Port.ToString(CultureInfo.InvariantCulture), "--reuse-port");
        Assert.Equal(endPoint, await second.WaitForListeningAsync());

        for (int i = 0; i < Clients; i++)
        {
            using var client = await EchoClient.ConnectAsync(endPoint);
            await client.RoundTripAsync([1]);
        }

        static int Accepted(ServerProcess p) => p.Stdout.Count(l => l.Contains("accepted from", StringComparison.Ordinal));
        await Eventually.True(() => Accepted(first) + Accepted(second) == Clients, "every client logged by one of the two");
        Assert.True(Accepted(first) > 0 && Accepted(second) > 0, $"connections spread: {Accepted(first)} and {Accepted(second)}");

        first.Terminate();
        second.Terminate();
        Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }
}
