using System.Net.Sockets;
using EchoServer.LoadTest;
using EchoServer.TestSupport;

namespace EchoServer.Tests.LoadTest;

/// <summary>
/// A FIN from the server between whole replies, on a connection that has echoed before, is a clean close that
/// echo-load retries and counts apart from errors; a FIN in the middle of a reply, or before the first reply of a
/// new connection, stays a short-echo error.
/// </summary>
public sealed class ServerCloseTests
{
    private const int Size = 64;
    private const int Messages = 200;

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    internal async Task A_FIN_between_whole_replies_is_retried_and_counted_apart_from_errors(int pipeline)
    {
        // The first three connections get ten whole replies, then a FIN.
        using var server = LoopbackTestServer.Start((number, client) => number <= 3 ? EchoThenCloseAsync(client, 10 * Size) : LoopbackTestServer.EchoAsync(client));

        var report = await RunAsync(server, pipeline);

        Assert.Equal(Messages, report.Messages);
        Assert.Equal(0, report.ErrorTotal);
        Assert.Equal(3, report.ClosedByServerRetried);
        Assert.Contains("retried      3 connections closed by the server between messages", report.ToText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    internal async Task A_FIN_in_the_middle_of_a_reply_is_a_short_echo_error(int pipeline)
    {
        using var server = LoopbackTestServer.Start((number, client) => number == 1 ? EchoThenCloseAsync(client, (10 * Size) + (Size / 2)) : LoopbackTestServer.EchoAsync(client));

        var report = await RunAsync(server, pipeline);

        Assert.Equal(1, report.Errors.GetValueOrDefault("short-echo"));
        Assert.Equal(0, report.ClosedByServerRetried);
    }

    [Fact]
    internal async Task A_FIN_before_the_first_reply_of_a_new_connection_is_a_short_echo_error()
    {
        using var server = LoopbackTestServer.Start((number, client) => number == 1 ? EchoThenCloseAsync(client, 0) : LoopbackTestServer.EchoAsync(client));

        var report = await RunAsync(server, 1);

        Assert.Equal(1, report.Errors.GetValueOrDefault("short-echo"));
        Assert.Equal(0, report.ClosedByServerRetried);
    }

    private static async Task<LoadReport> RunAsync(LoopbackTestServer server, int pipeline)
    {
        var options = new LoadOptions { Port = server.Port, Connections = 2, Messages = Messages, MessageSize = Size, Pipeline = pipeline, ProgressInterval = TimeSpan.Zero };
        return await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), $"{Messages} messages");
    }

    /// <summary>Echoes exactly <paramref name="bytes"/> bytes, sends a FIN, and reads (and drops) the rest until the client closes, so that no reset follows.</summary>
    private static async Task EchoThenCloseAsync(Socket client, int bytes)
    {
        var buffer = new byte[4096];
        for (int echoed = 0; echoed < bytes;)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, bytes - echoed)), SocketFlags.None);
            if (n == 0)
            {
                return;
            }

            await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            echoed += n;
        }

        client.Shutdown(SocketShutdown.Send);
        while (await client.ReceiveAsync(buffer, SocketFlags.None) > 0)
        {
        }
    }
}
