using System.Net;
using System.Text.RegularExpressions;
using Xunit;

namespace EchoServer.TestSupport;

/// <summary>
/// nginx running one <c>stream { }</c> block, as a test's load balancer. nginx and its stream module (Debian:
/// nginx-light and libnginx-mod-stream) are found, or installed once with apt-get (CI runs as root); when neither
/// works the test fails saying why.
/// </summary>
internal sealed partial class Nginx : IDisposable
{
    private const string Purpose = "This test puts nginx (stream module) in front of the server";

    private readonly ToolProcess _process;

    private Nginx(ToolProcess process) => _process = process;

    public bool HasExited => _process.HasExited;

    /// <summary>What nginx wrote so far (its error log).</summary>
    public string Output => _process.Output;

    /// <summary>
    /// Starts nginx in the foreground with <paramref name="streamBlock"/> as its only block besides <c>events</c>;
    /// returns once <paramref name="listen"/> (one of the block's <c>listen</c> addresses) accepts connections.
    /// </summary>
    public static async Task<Nginx> StartStreamAsync(string streamBlock, IPEndPoint listen)
    {
        string nginx = await DebianTool.LocateAsync("nginx-light", Purpose, "nginx");
        string loadModule = await StreamModuleAsync(nginx) is { } module ? $"load_module {module};" : string.Empty;
        string folder = Directory.CreateTempSubdirectory("echo-nginx-").FullName;
        string path = Path.Combine(folder, "nginx.conf");
        await File.WriteAllTextAsync(path, $$"""
            {{loadModule}}
            daemon off;
            master_process off;
            pid {{Path.Combine(folder, "nginx.pid")}};
            error_log stderr notice;
            events {
                worker_connections 1024;
            }

            {{streamBlock}}
            """);

        // -p: relative paths (none are left, but nginx checks its prefix); -e: errors before the file is read.
        var proxy = new Nginx(ToolProcess.Start("nginx", folder, nginx, ["-p", folder + "/", "-c", path, "-e", "stderr"]));
        try
        {
            await proxy._process.WaitUntilListeningAsync(listen);
            return proxy;
        }
        catch
        {
            proxy.Dispose();
            throw;
        }
    }

    public void Dispose() => _process.Dispose();

    /// <summary>The stream module to load, installing it when nginx was built with it as a module that is missing; null when it is built in.</summary>
    private static async Task<string?> StreamModuleAsync(string nginx)
    {
        var built = await Command.RunAsync(nginx, ["-V"], TimeSpan.FromSeconds(30));
        Assert.True(built is { ExitCode: 0 }, $"{Purpose}: '{nginx} -V' failed: {built?.Stderr}");
        string configure = built!.Stderr + built.Stdout;
        if (!configure.Contains("--with-stream=dynamic", StringComparison.Ordinal))
        {
            Assert.True(configure.Contains("--with-stream", StringComparison.Ordinal), $"{Purpose}: this nginx was built without the stream module ({nginx} -V).");
            return null;
        }

        string folder = ModulesPath().Match(configure) is { Success: true } m ? m.Groups[1].Value : "/usr/lib/nginx/modules";
        string module = Path.Combine(folder, "ngx_stream_module.so");
        if (!File.Exists(module))
        {
            var (exitCode, output) = await DebianTool.TryInstallAsync("libnginx-mod-stream");
            Assert.True(File.Exists(module), exitCode != 0
                ? $"{Purpose}: {module} is missing and 'apt-get install libnginx-mod-stream' failed (it needs root and a package source): {output}"
                : $"{Purpose}: libnginx-mod-stream was installed but {module} is not there.");
        }

        return module;
    }

    [GeneratedRegex(@"--modules-path=(\S+)")]
    private static partial Regex ModulesPath();
}
