using System.Diagnostics;
using System.Reflection;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>
/// Both executables as .NET tools: packed from the build the tests run against, installed into a temporary
/// tool path from that folder alone, and started by their command names, as a user would after
/// <c>dotnet tool install</c>. The commands are the ones scripts/README.md gives.
/// </summary>
public sealed class ToolInstallTests : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(120);

    private readonly string _temp = Directory.CreateTempSubdirectory("echo-tools-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task Both_tools_pack_install_and_run_by_their_command_names()
    {
        string root = Repository.Root;
        string packages = Path.Combine(_temp, "nupkg");
        string tools = Path.Combine(_temp, "tools");
        foreach (var (project, id, command, assembly) in new[]
        {
            ("src/EchoServer/EchoServer.csproj", "EchoServer", "echo-server", typeof(PoolKind).Assembly),
            ("src/EchoServer.LoadTest/EchoServer.LoadTest.csproj", "EchoServer.LoadTest", "echo-load", typeof(EchoServer.LoadTest.LoadOptions).Assembly),
        })
        {
            // --no-build: the projects were built with the tests; packing only adds the tool layout.
            await RunAsync("dotnet", root, "pack", Path.Combine(root, project), "-c", Configuration, "--no-build", "-o", packages, "-nologo");
            // --source (not --add-source): only the folder just packed, so no other feed can supply the package.
            await RunAsync("dotnet", root, "tool", "install", "--tool-path", tools, "--source", packages, id);

            // The version of the build under test (it names the commit): the installed tool is the one just packed.
            string output = await RunAsync(Path.Combine(tools, command), root, "--version");
            Assert.Equal(assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion, output.Trim());
        }

        // echo-load's charts load SkiaSharp's native library, which must ship in the tool package.
        string reports = Directory.CreateDirectory(Path.Combine(_temp, "reports")).FullName;
        await File.WriteAllTextAsync(Path.Combine(reports, "run.json"), """
            { "mode": "echo", "target": "127.0.0.1:7007", "connections": 1, "messageSize": 64, "pipeline": 1, "seconds": 1, "messages": 10, "bytes": 640,
              "messagesPerSecond": 10, "miBPerSecond": 0.01, "connectionsAnswered": 1, "errors": {}, "interrupted": false,
              "latencyUs": { "count": 10, "p50": 20, "p90": 30, "p99": 40, "p999": 50, "max": 60, "mean": 25 } }
            """);
        await RunAsync(Path.Combine(tools, "echo-load"), root, "summarize", reports);
        Assert.True(File.Exists(Path.Combine(reports, "throughput.png")), "the installed echo-load drew no chart");

        // The server also references the ASP.NET Core shared framework: the installed command must find it and serve.
        using var server = new Process { StartInfo = StartInfo(Path.Combine(tools, "echo-server"), root, "--port", "0") };
        var lines = new List<string>();
        server.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (lines) { lines.Add(e.Data); } } };
        server.Start();
        server.BeginOutputReadLine();
        try
        {
            bool Listening()
            {
                lock (lines)
                {
                    return lines.Exists(l => l.Contains("Listening on 127.0.0.1:", StringComparison.Ordinal));
                }
            }

            await Eventually.True(() => Listening() || server.HasExited, "the installed echo-server to listen");
            Assert.False(server.HasExited, "the installed echo-server exited at start");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static ProcessStartInfo StartInfo(string file, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>Runs a command to its end within <see cref="CommandLimit"/>; fails with its output unless it exits 0. Returns its stdout.</summary>
    private static async Task<string> RunAsync(string file, string workingDirectory, params string[] args) =>
        (await Command.RunCheckedAsync(file, args, CommandLimit, workingDirectory)).Stdout;
}
