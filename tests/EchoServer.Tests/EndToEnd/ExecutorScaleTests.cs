using System.Diagnostics;
using EchoServer.Diagnostics;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>The executor serves thousands of clients without a thread each.</summary>
public sealed class ExecutorScaleTests
{
    private const int Clients = 2000;

    [Fact]
    public async Task Two_thousand_concurrent_clients_each_echo_while_the_server_stays_under_100_threads()
    {
        // Both ends of 2000 connections live on this machine: make sure this process may open its half.
        DescriptorLimit.RaiseSoftLimit(Clients + 1000);
        using var server = ServerProcess.Start("--port", "0", "--pool", "executor", "--workers", "2000", "--max-connections", "2100", "--backlog", "2048");
        var endPoint = await server.WaitForListeningAsync();

        var clients = new List<EchoClient>(Clients);
        try
        {
            for (int batch = 0; batch < Clients; batch += 100)
            {
                clients.AddRange(await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => EchoClient.ConnectAsync(endPoint))));
            }

            var echoes = await Task.WhenAll(clients.Select(async (client, i) =>
            {
                var payload = BitConverter.GetBytes(i);
                var echoed = await client.RoundTripAsync(payload, TimeSpan.FromSeconds(30));
                return echoed.AsSpan().SequenceEqual(payload);
            }));
            Assert.All(echoes, Assert.True);

            // Every client is still connected, and every session is parked in a receive.
            int threads = Process.GetProcessById(server.Id).Threads.Count;
            Assert.True(threads < 100, $"the server runs {threads} threads for {Clients} clients");
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(server.Stdout, l => l.Contains($"connections served {Clients}, refused 0;", StringComparison.Ordinal));
    }
}
