using System.Diagnostics;
using System.Reflection;
using System.Text;
using EchoServer.Pools;
using EchoServer.TestSupport;
using Xunit.Abstractions;

namespace EchoServer.Tests.EndToEnd;

/// <summary>
/// The build a user deploys: scripts/publish.sh (and its twin publish.ps1) into a temporary folder, then the executable it leaves there
/// started on its own, as a user would: it echoes, reports the version of this build, and serves Prometheus
/// metrics on the admin port (Kestrel and the OpenTelemetry exporter under Native AOT).
/// </summary>
public sealed class PublishTests(ITestOutputHelper output) : IDisposable
{
    // A Native AOT publish takes about two minutes on a quiet 2-core machine and over four while other builds run:
    // the limit only stops a publish that hangs.
    private static readonly TimeSpan PublishLimit = TimeSpan.FromSeconds(600);

    private readonly string _temp = Directory.CreateTempSubdirectory("echo-publish-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Theory]
    [InlineData("publish.sh")]
    [InlineData("publish.ps1")]
    public async Task The_published_executable_echoes_reports_its_version_and_serves_metrics(string script)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the Native AOT toolchain this test installs is Linux's
        }

        // Native AOT links with clang: install it where it is missing (CI runs as root), as the README says.
        bool clang = ServerProcess.IsOnPath("clang") || await TryInstallClangAsync();
        output.WriteLine(clang
            ? "clang is present: the publish must be Native AOT"
            : $"clang is missing and could not be installed: {script} must fall back to a self-contained single file");

        string path = Path.Combine(Repository.Root, "scripts", script);
        string publishOutput = script.EndsWith(".ps1", StringComparison.Ordinal)
            ? await RunAsync(await Pwsh.LocateAsync(), "-NoProfile", "-NonInteractive", "-File", path, "-Out", _temp)
            : await RunAsync("bash", path, "--out", _temp);
        output.WriteLine(publishOutput);
        Assert.Contains(clang ? "(Native AOT, " : "(self-contained single file, ", publishOutput, StringComparison.Ordinal);
        string executable = Path.Combine(_temp, "echo-server");
        Assert.True(File.Exists(executable), $"{script} left no {executable}");

        string version = (await RunAsync(executable, "--version")).Trim();
        Assert.Equal(typeof(PoolKind).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion, version);

        using var server = ServerProcess.StartExecutable(executable, "--port", "0", "--admin-port", "0");
        var endPoint = await server.WaitForListeningAsync();
        var payload = Encoding.ASCII.GetBytes("hello from the published build\n");
        using (var client = await EchoClient.ConnectAsync(endPoint))
        {
            Assert.Equal(payload, await client.RoundTripAsync(payload));
        }

        string? adminLine = null;
        await Eventually.True(() => (adminLine = server.Stdout.FirstOrDefault(l => l.Contains("Admin endpoint on http://", StringComparison.Ordinal))) is not null, "the admin endpoint line");
        var adminUri = new Uri(adminLine![(adminLine!.IndexOf("http://", StringComparison.Ordinal))..].Split(' ')[0]);
        using var http = new HttpClient { BaseAddress = adminUri, Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));

        // The echo above is counted once its connection has closed: poll for the counter rather than sleep.
        string metrics = string.Empty;
        var deadline = Stopwatch.StartNew();
        while (!metrics.Split('\n').Any(l => l.StartsWith("echo_network_io_bytes_total{", StringComparison.Ordinal) && l.Contains("network_io_direction=\"receive\"", StringComparison.Ordinal) && l.EndsWith($"}} {payload.Length}", StringComparison.Ordinal)))
        {
            Assert.True(deadline.Elapsed < Eventually.Soon, $"/metrics never counted the {payload.Length} echoed bytes:\n{metrics}");
            await Task.Delay(50);
            metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }

        Assert.Contains("# TYPE echo_network_io_bytes_total counter", metrics, StringComparison.Ordinal);

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private async Task<bool> TryInstallClangAsync()
    {
        var (exitCode, error) = await DebianTool.TryInstallAsync("clang", "zlib1g-dev");
        if (exitCode != 0)
        {
            output.WriteLine($"apt-get install clang zlib1g-dev failed: {error}");
        }

        return ServerProcess.IsOnPath("clang");
    }

    /// <summary>Runs a command to its end within <see cref="PublishLimit"/>; fails with its output unless it exits 0.</summary>
    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var (stdout, stderr) = await Command.RunCheckedAsync(file, args, PublishLimit);
        return stdout + stderr;
    }
}
