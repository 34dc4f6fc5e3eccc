using System.Text.Json;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace EchoServer.Tests.Diagnostics;

/// <summary>The live view over HTTP: the page and its assets, and <c>/snapshot.json</c>.</summary>
public sealed class LiveViewTests
{
    [Fact]
    public async Task Snapshot_json_has_the_documented_fields_in_camel_case_and_is_not_stored()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Workers, o => o with { PoolSettings = TestServer.Pool(2, 2), AdminPort = 0 });
        using var http = AdminEndpointTests.AdminClient(server);
        using var served = await EchoClient.ConnectAsync(server.EndPoint);
        await served.RoundTripAsync([1, 2, 3]);
        using var second = await EchoClient.ConnectAsync(server.EndPoint);
        using var queued = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Pool.Load is { Busy: 2, Queued: 1 } && server.Service.CaptureSnapshot().Busy.Count == 2, "two clients served (each on its worker) and one queued");

        using var response = await http.GetAsync(new Uri("/snapshot.json", UriKind.Relative));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;

        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("serving", root.GetProperty("state").GetString());
        var pool = root.GetProperty("pool");
        Assert.Equal(("workers", 2, 2, "reject", 2, 1), (pool.GetProperty("kind").GetString(), pool.GetProperty("workers").GetInt32(), pool.GetProperty("queueCapacity").GetInt32(), pool.GetProperty("whenFull").GetString(), pool.GetProperty("busy").GetInt32(), pool.GetProperty("queued").GetInt32()));
        Assert.True(root.GetProperty("process").GetProperty("threads").GetInt32() > 2);
        Assert.Equal(3, root.GetProperty("process").GetProperty("gcCollections").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("connections").GetProperty("idle").ValueKind);
        Assert.Equal(3, root.GetProperty("connections").GetProperty("open").GetInt64());

        var busy = root.GetProperty("busy").EnumerateArray().ToList();
        // Which two workers take the clients is the pool's choice; each busy slot names its own worker.
        Assert.Equal(2, busy.Select(b => b.GetProperty("slot").GetInt32()).Distinct().Count());
        Assert.All(busy, b => Assert.Equal($"echo-worker-{b.GetProperty("slot").GetInt32() + 1}", b.GetProperty("worker").GetString()));
        var first = busy.Single(b => b.GetProperty("client").GetProperty("id").GetInt64() == 1).GetProperty("client");
        Assert.Equal((3, 3), (first.GetProperty("bytesIn").GetInt64(), first.GetProperty("bytesOut").GetInt64()));
        Assert.StartsWith("127.0.0.1:", first.GetProperty("peer").GetString(), StringComparison.Ordinal);
        Assert.True(first.GetProperty("ageSeconds").GetDouble() >= first.GetProperty("sinceSeconds").GetDouble());

        var queue = root.GetProperty("queue");
        Assert.Equal((1, 2), (queue.GetProperty("length").GetInt32(), queue.GetProperty("capacity").GetInt32()));
        Assert.Equal(3, queue.GetProperty("waiting")[0].GetProperty("id").GetInt64());
        Assert.True(queue.GetProperty("oldestWaitSeconds").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("history").ValueKind);
    }

    [Fact]
    public async Task Snapshot_json_counts_idle_and_sending_executor_sessions_and_details_only_the_slots_held()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(2, 4), AdminPort = 0 });
        using var http = AdminEndpointTests.AdminClient(server);
        using var idle = await EchoClient.ConnectAsync(server.EndPoint);
        await idle.RoundTripAsync([1]);
        using var holder = SlotHolder.Install(server);
        using var held = await holder.ConnectHeldAsync(server);
        using var hog = await SlotHog.ConnectAsync(server.EndPoint);
        await Eventually.True(() => SlotHog.AreBlocked(server) && server.Service.CaptureSnapshot() is { Busy: [{ State: "echoing" }], Connections: { Idle: 1, Sending: 1 } }, "one idle session, one holding a slot and one waiting for its client to read");

        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/snapshot.json", UriKind.Relative)));
        var connections = json.RootElement.GetProperty("connections");
        Assert.Equal((3, 1, 1), (connections.GetProperty("sessions").GetInt32(), connections.GetProperty("idle").GetInt32(), connections.GetProperty("sending").GetInt32()));
        var slot = Assert.Single(json.RootElement.GetProperty("busy").EnumerateArray());
        Assert.Equal(("executor", "echoing", 2), (slot.GetProperty("worker").GetString(), slot.GetProperty("state").GetString(), slot.GetProperty("client").GetProperty("id").GetInt64()));
    }

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/live-view.js", "text/javascript")]
    [InlineData("/live-view.css", "text/css")]
    public async Task The_page_and_its_assets_come_from_the_assembly_under_a_same_origin_content_security_policy(string path, string mediaType)
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0 });
        using var http = AdminEndpointTests.AdminClient(server);

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(LiveViewPage.ContentSecurityPolicy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Contains("script-src 'self'", LiveViewPage.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", LiveViewPage.ContentSecurityPolicy, StringComparison.Ordinal);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Length > 500, $"{path} is only {body.Length} characters");
        Assert.DoesNotContain("http://", body, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_page_loads_only_its_own_script_and_stylesheet_with_no_inline_code()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0 });
        using var http = AdminEndpointTests.AdminClient(server);

        string page = await http.GetStringAsync(new Uri("/", UriKind.Relative));

        Assert.Contains("<script src=\"/live-view.js\" defer></script>", page, StringComparison.Ordinal);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/live-view.css\">", page, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(page, "<script"));
        Assert.DoesNotContain("<style", page, StringComparison.Ordinal);
        Assert.DoesNotContain(" style=", page, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"<[^>]*\son\w+=", page); // no inline event handlers
    }

    internal static Uri AdminUri(TestServer server) => new($"http://127.0.0.1:{server.Services.GetRequiredService<AdminEndpoint>().Port}/");
}
