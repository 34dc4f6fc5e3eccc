using System.Diagnostics;
using System.Net;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace EchoServer.Tests.Deployment;

/// <summary>--drain-delay: /ready turns 503 at once while the listener goes on accepting, then the listener closes and the drain runs.</summary>
public sealed class DrainDelayTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(PoolKind.Executor)]
    [InlineData(PoolKind.Workers)]
    internal async Task Ready_turns_503_at_once_a_client_connecting_during_the_delay_is_echoed_and_the_listener_closes_after(PoolKind pool)
    {
        var server = await TestServer.StartAsync(pool, o => o with { AdminPort = 0, DrainDelay = Delay, ShutdownTimeout = TimeSpan.FromSeconds(5) });
        await using var _ = server;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Services.GetRequiredService<AdminEndpoint>().Port}"), Timeout = Eventually.Soon };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/ready", UriKind.Relative))).StatusCode);

        var endPoint = server.EndPoint;
        var clock = Stopwatch.StartNew();
        var stopping = server.StopAsync();
        await Eventually.True(() => server.Service.IsDraining, "the drain to be reported");

        using (var response = await http.GetAsync(new Uri("/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("draining\n", await response.Content.ReadAsStringAsync());
        }

        Assert.Contains("state=draining", await http.GetStringAsync(new Uri("/snapshot", UriKind.Relative)), StringComparison.Ordinal);
        using (var late = await EchoClient.ConnectAsync(endPoint))
        {
            Assert.True(clock.Elapsed < Delay, "the client connected within the delay");
            Assert.Equal([7, 8, 9], await late.RoundTripAsync([7, 8, 9]));
        }

        await Eventually.True(() => !Probe.CanConnect(endPoint), "the listener to close");
        Assert.True(clock.Elapsed >= Delay - TimeSpan.FromMilliseconds(100), $"the listener closed {clock.Elapsed.TotalSeconds:F2} s after the stop, before the {Delay.TotalSeconds} s delay");
        await Eventually.Completes(stopping, "the stop");
        Assert.Single(server.Logs.Named("DrainDelay"));
    }

    [Fact]
    internal async Task Ending_the_delay_early_closes_the_listener_and_stops_at_once()
    {
        var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { DrainDelay = TimeSpan.FromMinutes(10) });
        await using var _ = server;
        var endPoint = server.EndPoint;
        var stopping = server.StopAsync();
        await Eventually.True(() => server.Service.IsDraining, "the drain to be reported");
        Assert.True(Probe.CanConnect(endPoint), "still accepting during the delay");

        server.Service.EndDrainDelay();

        await Eventually.Completes(stopping, "the stop, without waiting out the delay");
        Assert.False(Probe.CanConnect(endPoint));
        Assert.Single(server.Logs.Named("DrainDelaySkipped"));
    }

    [Fact]
    internal async Task Without_a_delay_the_listener_closes_at_once_as_before()
    {
        var server = await TestServer.StartAsync(PoolKind.Executor);
        await using var _ = server;
        var endPoint = server.EndPoint;
        await server.StopAsync();
        Assert.False(Probe.CanConnect(endPoint));
        Assert.Empty(server.Logs.Named("DrainDelay"));
    }
}
