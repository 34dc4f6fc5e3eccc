using System.Net;
using System.Net.Sockets;
using EchoServer.LoadTest;
using EchoServer.TestSupport;

namespace EchoServer.Tests.LoadTest;

/// <summary>A connection that fails is counted and opened again: a load test keeps its load for the whole run.</summary>
public sealed class ReconnectTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    internal async Task Connections_reset_by_the_server_are_counted_and_opened_again(int pipeline)
    {
        // Resets (RST, not FIN) the first three connections it accepts, then echoes.
        using var server = LoopbackTestServer.Start((number, client) =>
        {
            if (number > 3)
            {
                return LoopbackTestServer.EchoAsync(client);
            }

            client.LingerState = new LingerOption(true, 0);
            return Task.CompletedTask;
        });
        var options = new LoadOptions { Port = server.Port, Connections = 2, Messages = 400, Pipeline = pipeline, ProgressInterval = TimeSpan.Zero };

        var report = await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), "400 messages despite the resets");

        Assert.Equal(400, report.Messages);
        Assert.Equal(2, report.ConnectionsAnswered);
        Assert.Equal(3, report.ErrorTotal);
        Assert.DoesNotContain("mismatch", report.Errors.Keys);
        Assert.Equal(5, server.Accepted);
    }

    [Fact]
    internal async Task Refused_connects_are_retried_with_a_back_off_for_the_whole_run()
    {
        // Bound but not listening: every connect is refused at once.
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var endPoint = (IPEndPoint)closed.LocalEndPoint!;
        var options = new LoadOptions { Port = endPoint.Port, Connections = 1, Duration = TimeSpan.FromSeconds(1), ProgressInterval = TimeSpan.Zero };

        var report = await Eventually.Completes(new LoadRunner(options, endPoint).RunAsync(null, CancellationToken.None), "the one-second run");

        // Back-off 10, 20, 40, ... ms: about 7 tries in a second. Without it, thousands; without retrying, one.
        long refused = report.Errors.GetValueOrDefault("connect-refused");
        Assert.InRange(refused, 3, 30);
        Assert.Equal(refused, report.ErrorTotal);
    }
}
