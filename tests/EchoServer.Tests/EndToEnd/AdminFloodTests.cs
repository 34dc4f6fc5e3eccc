using System.Net;
using System.Net.Sockets;
using EchoServer.TestSupport;
using Xunit.Abstractions;

namespace EchoServer.Tests.EndToEnd;

/// <summary>
/// The admin endpoint has its own connection limit, counted in the descriptor budget: a flood of HTTP
/// connections held open to it cannot take the descriptors the echo path was promised.
/// </summary>
public sealed class AdminFloodTests(ITestOutputHelper output)
{
    private const int DescriptorLimit = 400;
    private const int Flood = 450;

    /// <summary>Deadline for what takes a second alone but far longer beside parallel builds.</summary>
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Pools => new() { "workers", "executor" };

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Connections_held_open_to_the_admin_endpoint_do_not_starve_the_echo_path(string pool)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // ulimit is a Unix limit
        }

        using var server = ServerProcess.Start(DescriptorLimit, "--port", "0", "--admin-port", "0", "--pool", pool, "--workers", "16");
        var endPoint = await server.WaitForListeningAsync(Slow);
        int adminPort = await server.WaitForAdminPortAsync();
        var admin = new IPEndPoint(IPAddress.Loopback, adminPort);

        // Each flood connection sends half a request and holds on, as a hostile or broken client would.
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < Flood; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await socket.ConnectAsync(admin, connect.Token);
                    await socket.SendAsync("GET /metrics HTTP/1.1\r\nHost: flood\r\n"u8.ToArray(), SocketFlags.None);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    // Refused or closed at once past the limit: the flood goes on.
                }
            }

            int answered = 0;
            for (int probe = 0; probe < 8; probe++)
            {
                try
                {
                    using var client = await EchoClient.ConnectAsync(endPoint);
                    byte[] payload = [(byte)probe, 1, 2, 3];
                    if ((await client.RoundTripAsync(payload, TimeSpan.FromSeconds(10))).SequenceEqual(payload))
                    {
                        answered++;
                    }
                }
                catch (Exception ex) when (ex is SocketException or TimeoutException or OperationCanceledException or IOException)
                {
                    output.WriteLine($"probe {probe}: {ex.GetType().Name} {ex.Message}");
                }
            }

            Assert.False(server.HasExited, $"the server died: {string.Join(" | ", server.Stderr)}");
            Assert.Equal(8, answered);
        }
        finally
        {
            foreach (var socket in held)
            {
                socket.Dispose();
            }
        }

        // The flood gone, its connection slots are back: the endpoint answers again.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var healthz = new Uri($"http://127.0.0.1:{adminPort}/healthz");
        var deadline = DateTime.UtcNow + Slow;
        bool answers;
        while (!(answers = await AnswersAsync(http, healthz)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.True(answers, "the admin endpoint did not answer again after the flood");

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(Slow));
        Assert.DoesNotContain(server.Stdout, l => l.Contains("fail:", StringComparison.Ordinal) || l.Contains("crit:", StringComparison.Ordinal));
    }

    private static async Task<bool> AnswersAsync(HttpClient http, Uri uri)
    {
        try
        {
            using var response = await http.GetAsync(uri);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
