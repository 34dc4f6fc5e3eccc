using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Deployment;

/// <summary>
/// The deployment files as shipped work together: the server started with echo-server.service's own ExecStart
/// options and LimitNOFILE (only the executable's path and the ports replaced) behind scripts/deploy/haproxy.cfg,
/// and behind the nginx <c>stream</c> block of scripts/deploy/README.md, echoes a stream byte for byte and, after
/// the client's half-close, sends all of it back and then a FIN.
/// </summary>
public sealed partial class ShippedDeploymentTests
{
    private const int PayloadBytes = 1 << 20;

    private static string DeployReadme => Path.Combine(Repository.Root, "scripts", "deploy", "README.md");

    [Fact]
    public async Task The_unit_behind_the_shipped_haproxy_cfg_echoes_a_stream_byte_for_byte_through_a_half_close()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // prlimit, haproxy
        }

        var servers = Haproxy.ShippedServers();
        Assert.NotEmpty(servers);
        foreach (var line in servers)
        {
            Assert.True(line.Port == UnitPort && line.CheckPort == UnitAdminPort, $"{Haproxy.ShippedConfig}: server {line.Name} sends clients to port {line.Port} and checks port {line.CheckPort}; the unit listens on {UnitPort}, its admin endpoint on {UnitAdminPort}");
        }

        using var server = await StartUnitAsync();
        var (echo, admin) = (await WaitForEchoPortAsync(server), await server.WaitForAdminPortAsync());

        // The first answer of a cold admin endpoint may take longer than the shipped "timeout check 1s" on a busy
        // machine: one answered /ready here keeps HAProxy's first checks from marking the instance down.
        using (var http = new HttpClient { Timeout = Eventually.Soon })
        using (var ready = await http.GetAsync(new Uri($"http://127.0.0.1:{admin.ToString(CultureInfo.InvariantCulture)}/ready")))
        {
            Assert.True(ready.IsSuccessStatusCode, $"/ready answered {(int)ready.StatusCode}");
        }

        // Every shipped server line, each pointing at this one instance; HAProxy under the unit's descriptor limit too.
        using var haproxy = await Haproxy.StartShippedAsync(servers.Select(_ => (echo, admin)).ToList(), ShippedUnit.DescriptorLimit());
        await haproxy.WaitForServersAsync(s => s.Count == servers.Count && s.Values.All(v => v == "UP"), "every server line UP in HAProxy");

        await EchoesThroughHalfCloseAsync(haproxy.Frontends[0], server, () => haproxy.Output);
    }

    [Fact]
    public async Task The_unit_behind_the_documented_nginx_stream_block_echoes_a_stream_byte_for_byte_through_a_half_close()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // prlimit, nginx
        }

        using var server = await StartUnitAsync();
        var echo = await WaitForEchoPortAsync(server);
        var front = new IPEndPoint(IPAddress.Loopback, FreePort.Pick());
        using var nginx = await Nginx.StartStreamAsync(LocalStreamBlock(echo, front), front);

        await EchoesThroughHalfCloseAsync(front, server, () => nginx.Output);
    }

    private static int UnitPort => int.Parse(ShippedUnit.Option("--port"), CultureInfo.InvariantCulture);

    private static int UnitAdminPort => int.Parse(ShippedUnit.Option("--admin-port"), CultureInfo.InvariantCulture);

    /// <summary>The server as the unit starts it, but from this build and on free ports.</summary>
    private static async Task<ServerProcess> StartUnitAsync()
    {
        await DebianTool.RequireAsync("prlimit", "util-linux");
        var (executable, _) = ShippedUnit.ExecStart();
        Assert.Equal(ShippedUnit.Executable, executable);
        int limit = ShippedUnit.DescriptorLimit();
        string[] options = ShippedUnit.OptionsWith(("--port", "0"), ("--admin-port", "0"));
        return ServerProcess.StartExecutable("prlimit", [$"--nofile={limit}:{limit}", Path.Combine(AppContext.BaseDirectory, "echo-server"), .. options]);
    }

    /// <summary>The unit listens on every address (<c>--host 0.0.0.0</c>): the balancers reach it on loopback.</summary>
    private static async Task<IPEndPoint> WaitForEchoPortAsync(ServerProcess server) =>
        new(IPAddress.Loopback, (await server.WaitForListeningAsync(TimeSpan.FromSeconds(30))).Port);

    /// <summary>
    /// The one <c>nginx</c> block of scripts/deploy/README.md with its upstream servers pointed at <paramref name="echo"/>
    /// and its <c>listen</c> at <paramref name="front"/>; every other line as documented.
    /// </summary>
    private static string LocalStreamBlock(IPEndPoint echo, IPEndPoint front)
    {
        var blocks = NginxBlock().Matches(File.ReadAllText(DeployReadme));
        Assert.True(blocks.Count == 1, $"{DeployReadme}: {blocks.Count} nginx blocks, expected one");
        string block = blocks[0].Groups["body"].Value;
        Assert.StartsWith("stream {", block, StringComparison.Ordinal);

        var upstreams = UpstreamServer().Matches(block);
        Assert.NotEmpty(upstreams);
        Assert.All(upstreams, m => Assert.Equal(UnitPort.ToString(CultureInfo.InvariantCulture), m.Groups["port"].Value));
        Assert.Single(Listen().Matches(block));
        block = UpstreamServer().Replace(block, m => $"{m.Groups["indent"].Value}server {echo}{m.Groups["rest"].Value}");
        return Listen().Replace(block, m => $"{m.Groups["indent"].Value}listen {front};");
    }

    /// <summary>1 MiB through the balancer, then a half-close: everything comes back, unchanged, then a FIN.</summary>
    private static async Task EchoesThroughHalfCloseAsync(IPEndPoint front, ServerProcess server, Func<string> balancerOutput)
    {
        var payload = new byte[PayloadBytes];
        new Random(7007).NextBytes(payload);
        using var client = await EchoClient.ConnectAsync(front);

        // Read while sending: 1 MiB is more than the socket buffers on the way hold.
        var echoed = client.ReadToEndAsync(TimeSpan.FromSeconds(60));
        await client.Socket.SendAsync(payload, SocketFlags.None);
        client.Socket.Shutdown(SocketShutdown.Send);
        byte[] received;
        try
        {
            received = await echoed;
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no FIN within 60 s after the half-close; the balancer wrote:\n{balancerOutput()}\nthe server wrote:\n{string.Join('\n', server.Stdout)}");
            throw;
        }

        int same = 0;
        while (same < Math.Min(received.Length, payload.Length) && received[same] == payload[same])
        {
            same++;
        }

        Assert.True(received.Length == payload.Length && same == payload.Length,
            $"sent {payload.Length} bytes, got {received.Length} back, the first {same} of them as sent (first bytes back: {Convert.ToHexString(received.AsSpan(0, Math.Min(32, received.Length)))}); the balancer wrote:\n{balancerOutput()}");
    }

    [GeneratedRegex(@"```nginx\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex NginxBlock();

    [GeneratedRegex(@"^(?<indent>[ \t]*)server[ \t]+[^\s:;]+:(?<port>\d+)(?<rest>[^\n]*)$", RegexOptions.Multiline)]
    private static partial Regex UpstreamServer();

    [GeneratedRegex(@"^(?<indent>[ \t]*)listen[ \t]+[^;\n]+;", RegexOptions.Multiline)]
    private static partial Regex Listen();
}
