using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace EchoServer.Tests.Diagnostics;

/// <summary>The admin endpoint over loopback: health, readiness, snapshot and Prometheus metrics.</summary>
public sealed class AdminEndpointTests
{
    [Theory]
    [InlineData(PoolKind.Workers)]
    internal async Task Health_ready_snapshot_and_metrics_answer_and_ready_turns_503_while_the_pool_is_saturated(PoolKind pool)
    {
        await using var server = await TestServer.StartAsync(pool, o => o with { PoolSettings = TestServer.Pool(1, 1), AdminPort = 0 });
        using var http = AdminClient(server);

        Assert.Equal((200, "ok\n"), await GetAsync(http, "/healthz"));
        Assert.Equal((200, "ready\n"), await GetAsync(http, "/ready"));

        using var served = await EchoClient.ConnectAsync(server.EndPoint);
        await served.RoundTripAsync([1, 2, 3]);
        using var queued = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Pool.Load.Queued == 1, "the second client to fill the queue");

        Assert.Equal((503, "saturated\n"), await GetAsync(http, "/ready"));
        Assert.Equal((200, "ok\n"), await GetAsync(http, "/healthz"));

        var (status, snapshot) = await GetAsync(http, "/snapshot");
        Assert.Equal(200, status);
        Assert.Contains("busy=1 queue=1/1", snapshot, StringComparison.Ordinal);
        Assert.Matches(@"#1 127\.0\.0\.1:\d+ since \d+\.\d+ s, in 3 B, out 3 B", snapshot);
        Assert.Matches(@"queue, oldest first \(1\):\n  #2 127\.0\.0\.1:\d+ waiting \d+\.\d+ s", snapshot);
        if (pool == PoolKind.Workers)
        {
            Assert.Contains("echo-worker-1  serving #1", snapshot, StringComparison.Ordinal);
        }

        var (metricsStatus, metrics) = await GetAsync(http, "/metrics");
        Assert.Equal(200, metricsStatus);
        string name = pool == PoolKind.Workers ? "workers" : "executor";
        Assert.Contains($"echo_accepted_connections_total{{otel_scope_name=\"EchoServer\",echo_pool=\"{name}\"}}", metrics, StringComparison.Ordinal);
        Assert.Contains("echo_pool_queue_wait_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains($"echo_network_io_bytes_total{{otel_scope_name=\"EchoServer\",echo_pool=\"{name}\",network_io_direction=\"receive\"}}", metrics, StringComparison.Ordinal);

        served.Dispose();
        await Eventually.True(() => server.Service.Pool.Load.Queued == 0, "the queued client to be served");
        Assert.Equal((200, "ready\n"), await GetAsync(http, "/ready"));
    }

    [Fact]
    internal async Task Healthz_and_ready_answer_503_while_the_server_drains()
    {
        var server = await TestServer.StartAsync(PoolKind.Workers, o => o with { AdminPort = 0, ShutdownTimeout = TimeSpan.FromSeconds(20) });
        await using var _ = server;
        using var http = AdminClient(server);
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        await client.RoundTripAsync([1]);

        var stopping = server.StopAsync();
        await Eventually.True(() => server.Service.IsDraining, "the drain to start");

        Assert.Equal((503, "draining\n"), await GetAsync(http, "/healthz"));
        Assert.Equal((503, "draining\n"), await GetAsync(http, "/ready"));
        client.Dispose();
        await Eventually.Completes(stopping, "the drain to end once the client left");
    }

    [Theory]
    [InlineData("POST", "/metrics")]
    [InlineData("PUT", "/healthz")]
    [InlineData("DELETE", "/snapshot")]
    [InlineData("POST", "/no-such-path")]
    [InlineData("POST", "/")]
    [InlineData("PUT", "/snapshot.json")]
    internal async Task Anything_but_GET_and_HEAD_is_answered_405_with_an_Allow_header(string method, string path)
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0 });
        using var http = AdminClient(server);

        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        using var response = await http.SendAsync(request);

        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/metrics")]
    [InlineData("/")]
    [InlineData("/snapshot.json")]
    internal async Task HEAD_answers_like_GET(string path)
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0 });
        using var http = AdminClient(server);

        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(path, UriKind.Relative));
        using var response = await http.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    internal async Task The_page_s_assets_answer_at_their_exact_paths_only_and_anything_else_is_404()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { AdminPort = 0 });
        using var http = AdminClient(server);

        // Routing matches paths without regard to case and with a trailing slash; the assets are not there.
        foreach (string path in new[] { "/LIVE-VIEW.JS", "/Live-View.css", "/live-view.js/", "/live-view.css/", "/Live-View.JS/" })
        {
            Assert.Equal((path, 404), (path, (await GetAsync(http, path)).Status));
        }

        foreach (string path in new[] { "/", "/live-view.js", "/live-view.css" })
        {
            Assert.Equal((path, 200), (path, (await GetAsync(http, path)).Status));
        }
    }

    internal static HttpClient AdminClient(TestServer server) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{server.Services.GetRequiredService<AdminEndpoint>().Port}"), Timeout = Eventually.Soon };

    private static async Task<(int Status, string Body)> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
