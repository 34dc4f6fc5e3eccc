using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using EchoServer.TestSupport;

namespace EchoServer.Tests.LoadTest;

/// <summary>
/// A server that accepts and never answers is a failed run, not a clean one: echo-load says how many connections
/// never got a reply (and how many messages were left waiting), and exits with its own code, apart from errors.
/// </summary>
public sealed class UnansweredTests : IDisposable
{
    private const int Unanswered = 4;

    private readonly string _temp = Directory.CreateTempSubdirectory("echo-load-unanswered-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task Clients_that_never_get_a_reply_exit_with_their_own_code_and_report_line()
    {
        using var silent = LoopbackTestServer.Start((_, client) => DiscardAsync(client));
        string json = Path.Combine(_temp, "run.json");

        using var load = ServerProcess.StartTool("echo-load.dll", "--port", silent.Port.ToString(CultureInfo.InvariantCulture), "-c", "2", "-d", "1", "--progress", "0", "--json", json);

        Assert.Equal(Unanswered, await load.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(load.Stdout, l => l == "  unanswered   2 of 2 connections never got a reply");
        Assert.Contains(load.Stdout, l => l == "  errors       none");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal(2, report.RootElement.GetProperty("connectionsUnanswered").GetInt64());
    }

    [Fact]
    public async Task A_message_left_waiting_past_the_reply_timeout_exits_with_the_same_code()
    {
        // The first connection gets one reply, then silence: its second message waits until the run gives up.
        using var stalling = LoopbackTestServer.Start((_, client) => EchoOnceThenDiscardAsync(client));

        using var load = ServerProcess.StartTool("echo-load.dll", "--port", stalling.Port.ToString(CultureInfo.InvariantCulture), "-c", "1", "-n", "10", "--reply-timeout", "500ms", "--progress", "0");

        Assert.Equal(Unanswered, await load.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(load.Stdout, l => l == "  unanswered   1 message still unanswered at the end, after --reply-timeout");
        Assert.Contains(load.Stdout, l => l == "  errors       none");
    }

    /// <summary>Reads and drops whatever comes, never answering, until the client closes.</summary>
    private static async Task DiscardAsync(Socket client)
    {
        var buffer = new byte[4096];
        while (await client.ReceiveAsync(buffer, SocketFlags.None) > 0)
        {
        }
    }

    private static async Task EchoOnceThenDiscardAsync(Socket client)
    {
        var buffer = new byte[64];
        for (int echoed = 0; echoed < buffer.Length;)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(echoed), SocketFlags.None);
            if (n == 0)
            {
                return;
            }

            echoed += n;
        }

        await client.SendAsync(buffer, SocketFlags.None);
        await DiscardAsync(client);
    }
}
