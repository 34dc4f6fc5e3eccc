using System.Diagnostics;
using System.Globalization;
using System.Net;
using EchoServer.LoadTest;
using EchoServer.TestSupport;
using Xunit.Abstractions;

namespace EchoServer.Tests.Deployment;

/// <summary>
/// Three instances behind HAProxy (scripts/deploy/haproxy.cfg), restarted one after another while echo-load runs
/// through the balancer in echo mode and, in a second process, in connect mode: no client error, no wrong byte.
/// The drain delay covers HAProxy's health checks, so no new connection reaches a closed listener, and
/// connections open on a draining instance are closed by it between messages and retried (echo-load's
/// "retried", which is not an error); there is no option redispatch to hide anything.
/// </summary>
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    private const int Instances = 3;

    // A start took over 10 s with the machine's two cores shared by many builds.
    private static readonly TimeSpan ProcessStart = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Restarting_every_instance_under_load_costs_no_client_error_and_no_wrong_byte()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // haproxy and SIGTERM
        }

        var clock = Stopwatch.StartNew();
        var instances = new ServerProcess[Instances];
        var ports = new (IPEndPoint Echo, int AdminPort)[Instances];
        try
        {
            for (int i = 0; i < Instances; i++)
            {
                instances[i] = StartInstance("0", "0");
                ports[i] = (await instances[i].WaitForListeningAsync(ProcessStart), await instances[i].WaitForAdminPortAsync());
            }

            using var haproxy = await Haproxy.StartShippedAsync(ports);
            await haproxy.WaitForServersAsync(s => s.Count == Instances && s.Values.All(v => v == "UP"), "every instance UP in HAProxy");

            string echoJson = Path.GetTempFileName(), connectJson = Path.GetTempFileName();
            string front = haproxy.Frontends[0].Port.ToString(CultureInfo.InvariantCulture);
            using var echo = ServerProcess.StartTool("echo-load.dll", "--port", front, "--mode", "echo", "-c", "20", "-d", "120", "--progress", "0", "--json", echoJson);
            using var connect = ServerProcess.StartTool("echo-load.dll", "--port", front, "--mode", "connect", "-c", "4", "-d", "120", "--progress", "0", "--json", connectJson);
            await Task.Delay(1000); // load under way before the first restart

            for (int i = 0; i < Instances; i++)
            {
                var restartClock = Stopwatch.StartNew();
                instances[i].Terminate();
                Assert.Equal(0, await instances[i].WaitForExitAsync(TimeSpan.FromSeconds(20)));
                var stopped = instances[i];
                instances[i] = StartInstance(ports[i].Echo.Port.ToString(CultureInfo.InvariantCulture), ports[i].AdminPort.ToString(CultureInfo.InvariantCulture));
                await instances[i].WaitForListeningAsync(ProcessStart);
                string name = $"echo{i + 1}";
                await haproxy.WaitForServersAsync(s => s.GetValueOrDefault(name) == "UP", $"{name} UP again after its restart");
                output.WriteLine($"{name}: restarted and UP again in {restartClock.Elapsed.TotalSeconds:F1} s; its last run: {stopped.Stdout.LastOrDefault(l => l.Contains("Stopped after", StringComparison.Ordinal))}");
                stopped.Dispose();
            }

            await Task.Delay(1000); // load on the restarted instances too
            echo.Signal(2);
            connect.Signal(2);
            int echoExit = await echo.WaitForExitAsync(TimeSpan.FromSeconds(20));
            int connectExit = await connect.WaitForExitAsync(TimeSpan.FromSeconds(20));
            output.WriteLine(string.Join('\n', echo.Stdout));
            output.WriteLine(string.Join('\n', connect.Stdout));
            output.WriteLine($"whole test: {clock.Elapsed.TotalSeconds:F1} s");
            var echoReport = LoadReport.FromJson(await File.ReadAllTextAsync(echoJson))!;
            var connectReport = LoadReport.FromJson(await File.ReadAllTextAsync(connectJson))!;
            Assert.True(echoExit == 0 && connectExit == 0, $"echo-load exit codes {echoExit} (echo) and {connectExit} (connect); errors: echo {Describe(echoReport)}, connect {Describe(connectReport)}");

            Assert.Empty(echoReport.Errors);
            Assert.Empty(connectReport.Errors);
            Assert.True(echoReport.Messages > 1000 && connectReport.Messages > 100, $"load really ran: {echoReport.Messages} echo messages, {connectReport.Messages} connects");
            Assert.Equal(0, connectReport.ClosedByServerRetried); // a fresh connection closed early would be an error, never a retry
            Assert.False(haproxy.HasExited);
            File.Delete(echoJson);
            File.Delete(connectJson);
        }
        finally
        {
            foreach (var instance in instances)
            {
                instance?.Dispose();
            }
        }
    }

    private static string Describe(LoadReport report) => report.Errors.Count == 0 ? "none" : string.Join(", ", report.Errors.Select(e => $"{e.Key} {e.Value}"));

    private static ServerProcess StartInstance(string port, string adminPort) =>
        ServerProcess.Start("--port", port, "--admin-port", adminPort, "--drain-delay", "3s", "--shutdown-timeout", "1s", "--log-level", "Warning");
}
