using EchoServer.Faults;
using EchoServer.Pools;
using EchoServer.TestSupport;
using EchoServer.Tests.Diagnostics;

namespace EchoServer.Tests.Faults;

/// <summary>The live view, as headless Chromium renders it, says which faults are in force, counts the faulted connections and names a busy slot's faults.</summary>
public sealed class FaultLiveViewTests
{
    [Fact]
    public async Task The_page_counts_the_faulted_connections_and_a_busy_slot_names_its_faults()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Workers, o => o with { PoolSettings = TestServer.Pool(4, 4), AdminPort = 0, Faults = new FaultSettings { Chunk = 10, Seed = 1 } });
        await using var browser = await HeadlessChromium.OpenAsync(LiveViewTests.AdminUri(server));
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        Assert.Equal(new byte[25], await client.RoundTripAsync(new byte[25]));

        string dom = await browser.WaitForDomAsync(d => d.Contains("faulted connections: 1 open", StringComparison.Ordinal), "the faulted connection counted");
        Assert.Contains("faults (chunk=10, rate=1, seed=1), faulted connections: 1 open, 1 since start", dom, StringComparison.Ordinal);
        Assert.Matches(@"title=""echo-worker-(\d+) \(slot \1\): receiving\n#1 127\.0\.0\.1:\d+\nin 25 B, out 25 B\nage [^""]*\nfault=chunk""", dom);
    }
}
