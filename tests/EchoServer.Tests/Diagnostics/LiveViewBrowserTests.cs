using System.Text.RegularExpressions;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Diagnostics;

/// <summary>
/// The live view as headless Chromium renders it: the cells and the queue bar (read from their data attributes
/// in the rendered DOM) show exactly the clients the test holds, and the same open page follows as they come
/// and leave.
/// </summary>
public sealed partial class LiveViewBrowserTests
{
    [Fact]
    public async Task Workers_pool_the_page_shows_each_busy_worker_and_the_queue_and_follows_when_the_clients_leave()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Workers, o => o with { PoolSettings = TestServer.Pool(4, 4), AdminPort = 0 });
        await using var browser = await HeadlessChromium.OpenAsync(LiveViewTests.AdminUri(server));
        var clients = new List<EchoClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                clients.Add(await EchoClient.ConnectAsync(server.EndPoint));
            }

            await Eventually.True(() => server.Service.Pool.Load is { Busy: 3, Queued: 0 }, "three workers busy");
            string dom = await browser.WaitForDomAsync(d => Busy(d) == 3, "three busy workers");

            // Three grants that did not wait: a p99 of a microsecond (0.00 ms) is drawn against a scale from zero to
            // at least 1 ms, near the bottom, not as a full-height area.
            dom = await browser.WaitForDomAsync(d => Chart(d, "queueWaitP99Ms", "peak") is > 0 and < 1, "the grants' p99 in the chart");
            Assert.Equal(1, Chart(dom, "queueWaitP99Ms", "scale"));
            // Which parked worker takes a client is up to the scheduler: the busy cells are the ones the pool reports.
            Assert.Equal(["idle", "receiving", "receiving", "receiving"], Cells(dom).Select(c => c.State).Order(StringComparer.Ordinal));
            Assert.Equal(server.Service.CaptureSnapshot().Busy.Select(b => b.Slot), Cells(dom).Where(c => c.State != "idle").Select(c => c.Slot));
            Assert.Equal(0, QueueLength(dom));

            for (int i = 0; i < 3; i++)
            {
                clients.Add(await EchoClient.ConnectAsync(server.EndPoint));
            }

            await Eventually.True(() => server.Service.Pool.Load is { Busy: 4, Queued: 2 }, "four workers busy and two clients queued");
            dom = await browser.WaitForDomAsync(d => QueueLength(d) == 2, "two clients queued");
            Assert.Equal(["receiving", "receiving", "receiving", "receiving"], Cells(dom).Select(c => c.State));
            Assert.Matches(@"<p id=""queue-summary""[^>]*>2 of 4 waiting · oldest \d", dom);
            dom = await browser.WaitForDomAsync(d => Chart(d, "oldestQueueWaitMs", "latest") > 0, "the oldest queue wait in its chart while the clients wait");
            Assert.True(Chart(dom, "queueWaitP99Ms", "latest") >= Chart(dom, "oldestQueueWaitMs", "latest"), "the p99 counts the waits in progress");
            Assert.Matches(@"title=""echo-worker-(\d+) \(slot \1\): receiving\n#[1-6] 127\.0\.0\.1:\d+\nin 0 B, out 0 B\nage \d", dom); // the hover text

            DisposeAll(clients);
            await Eventually.True(() => server.Service.Pool.Load is { Busy: 0, Queued: 0 } && server.Service.Counters.Active == 0, "every client gone");
            dom = await browser.WaitForDomAsync(d => Busy(d) == 0 && QueueLength(d) == 0, "no busy worker and an empty queue");
            Assert.All(Cells(dom), c => Assert.Equal("idle", c.State));
            await browser.WaitForDomAsync(d => d.Contains("accepted 6, closed 6 (0 of them refused)", StringComparison.Ordinal), "the closed connections in the log's word");
        }
        finally
        {
            DisposeAll(clients);
        }
    }

    [Fact]
    public async Task Executor_the_page_shows_the_slots_held_the_idle_and_sending_sessions_and_the_queue_and_follows_when_the_clients_leave()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(4, 4), AdminPort = 0 });
        await using var browser = await HeadlessChromium.OpenAsync(LiveViewTests.AdminUri(server));
        var held = new List<EchoClient>();
        var clients = new List<EchoClient>();
        SlotHolder? holder = null;
        SlotHog? hog = null;
        try
        {
            clients.Add(await EchoClient.ConnectAsync(server.EndPoint));
            hog = await SlotHog.ConnectAsync(server.EndPoint);
            await Eventually.True(() => SlotHog.AreBlocked(server) && server.Service.CaptureSnapshot() is { Connections: { Idle: 1, Sending: 1 } }, "one idle session and one waiting for its client to read");
            holder = SlotHolder.Install(server, 4);
            for (int i = 0; i < 4; i++)
            {
                held.Add(await holder.ConnectHeldAsync(server));
            }

            await Eventually.True(() => server.Service.CaptureSnapshot() is { Busy.Count: 4, Connections.Idle: 1 } s && s.Busy.All(b => b.State == "echoing"), "four slots held by long bursts, one idle session");
            for (int i = 0; i < 2; i++)
            {
                var client = await EchoClient.ConnectAsync(server.EndPoint);
                clients.Add(client);
                await client.Socket.SendAsync(new byte[] { 1 });
            }

            await Eventually.True(() => server.Service.Pool.Load is { Busy: 4, Queued: 2 }, "two bursts queued for a slot");
            string dom = await browser.WaitForDomAsync(d => QueueLength(d) == 2, "two bursts queued");
            Assert.Equal(["echoing", "echoing", "echoing", "echoing"], Cells(dom).Select(c => c.State));
            Assert.Contains("4 of 4 slots busy · 8 open sessions, 1 idle (waiting for data, holding no slot and no buffer), 1 sending", dom, StringComparison.Ordinal);

            holder.Dispose();
            DisposeAll(held);
            hog.Dispose();
            await Eventually.True(() => server.Service.Pool.Load is { Busy: 0, Queued: 0 } && server.Service.Counters.Active == 3, "the long bursts gone and the queued bursts echoed");
            dom = await browser.WaitForDomAsync(d => Busy(d) == 0 && QueueLength(d) == 0, "no slot held and an empty queue");
            Assert.All(Cells(dom), c => Assert.Equal("idle", c.State));
            Assert.Contains("0 of 4 slots busy · 3 open sessions, 3 idle (waiting for data, holding no slot and no buffer), 0 sending", dom, StringComparison.Ordinal);
        }
        finally
        {
            holder?.Dispose();
            hog?.Dispose();
            DisposeAll(held);
            DisposeAll(clients);
        }
    }

    [Fact]
    public async Task With_udp_the_page_shows_datagrams_echoed_and_dropped_and_without_it_no_udp_panel()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0, Udp = new EchoServer.Datagrams.UdpSettings { RatePerIp = 2 } });
        using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        client.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        for (int i = 0; i < 3; i++)
        {
            await client.SendToAsync("ping"u8.ToArray(), server.EndPoint);
        }

        await Eventually.True(() => server.Service.Udp!.Counters is { Echoed: 2, DroppedTotal: 1 }, "two echoed and one over the budget");
        await using (var browser = await HeadlessChromium.OpenAsync(LiveViewTests.AdminUri(server)))
        {
            string dom = await browser.WaitForDomAsync(d => d.Contains("received 3, echoed 2, dropped 1 (rate-limit 1)", StringComparison.Ordinal), "the UDP panel's counts");
            Assert.Matches(@"<section id=""udp-panel"" class=""panel"">", dom); // shown: no hidden attribute
        }

        await using var tcpOnly = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0 });
        await using var page = await HeadlessChromium.OpenAsync(LiveViewTests.AdminUri(tcpOnly));
        // The page's own HTML says data-snapshots="0": wait for a count the script wrote, not a page still being parsed.
        string plain = await page.WaitForDomAsync(d => System.Text.RegularExpressions.Regex.IsMatch(d, @"data-snapshots=""[1-9]"), "a first snapshot drawn");
        Assert.Matches(@"<section id=""udp-panel"" class=""panel"" hidden(="""")?>", plain);
    }

    [Fact]
    public async Task Past_a_few_hundred_slots_cells_stand_for_blocks_of_slots()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(1000, 4), AdminPort = 0 });
        using var holder = SlotHolder.Install(server);
        using var held = await holder.ConnectHeldAsync(server);
        await Eventually.True(() => server.Service.CaptureSnapshot() is { Busy: [{ State: "echoing" }] }, "one slot held by a long burst");

        await using var browser = await HeadlessChromium.OpenAsync(LiveViewTests.AdminUri(server));
        string dom = await browser.WaitForDomAsync(d => Busy(d) == 1, "one busy slot");

        Assert.Matches(@"id=""slots"" class=""grid blocks"" data-busy=""1"" data-cells=""250"" data-block=""4""", dom);
        var cells = Cells(dom);
        Assert.Equal(250, cells.Count);
        Assert.Equal(["echoing"], cells.Where(c => c.State != "idle").Select(c => c.State));
        Assert.Contains("slots 1–4: 1 of 4 busy (1 echoing)", dom, StringComparison.Ordinal);
    }

    /// <summary>A chart's data attribute (<c>latest</c>, <c>peak</c>, <c>scale</c>) as the page last drew it; -1 before it drew.</summary>
    private static double Chart(string dom, string series, string attribute) =>
        Regex.Match(dom, $@"data-series=""{series}""[^>]*? data-{attribute}=""([^""]+)""") is { Success: true } m
            ? double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : -1;

    private static int Busy(string dom) => int.Parse(GridBusy().Match(dom) is { Success: true } m ? m.Groups[1].Value : "-1", System.Globalization.CultureInfo.InvariantCulture);

    private static int QueueLength(string dom) => int.Parse(QueueBar().Match(dom) is { Success: true } m ? m.Groups[1].Value : "-1", System.Globalization.CultureInfo.InvariantCulture);

    private static List<(int Slot, string State)> Cells(string dom) =>
        [.. Cell().Matches(dom).Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value))];

    private static void DisposeAll<T>(List<T> items)
        where T : IDisposable
    {
        foreach (var item in items)
        {
            item.Dispose();
        }
    }

    [GeneratedRegex(@"id=""slots""[^>]* data-busy=""(\d+)""")]
    private static partial Regex GridBusy();

    [GeneratedRegex(@"id=""queue""[^>]* data-queue-length=""(\d+)""")]
    private static partial Regex QueueBar();

    [GeneratedRegex(@"<div class=""cell[^""]*"" data-slot=""(\d+)"" data-state=""(\w+)""")]
    private static partial Regex Cell();
}
