using System.Diagnostics;
using System.Net;
using EchoServer.TestSupport;

namespace EchoServer.FaultTests;

/// <summary>Logging never stops the echo: with stdout a pipe nobody reads, the server drops log lines, not clients.</summary>
public sealed class StalledLogTests
{
    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task Three_thousand_connections_are_served_while_nobody_reads_the_log(string pool)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { ServerProcess.ExecutablePath, "--port", "0", "--pool", pool })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        try
        {
            // Read the first line for the port, then never read stdout again: the pipe fills within a few hundred lines.
            string first = await process.StandardOutput.ReadLineAsync().WaitAsync(Eventually.Soon) ?? "";
            int port = int.Parse(first.Split("127.0.0.1:")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            var endPoint = new IPEndPoint(IPAddress.Loopback, port);

            for (int i = 0; i < 3000; i++)
            {
                using var client = await EchoClient.ConnectAsync(endPoint);
                Assert.Equal([(byte)i], await client.RoundTripAsync([(byte)i], TimeSpan.FromSeconds(5)));
            }
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }
}
