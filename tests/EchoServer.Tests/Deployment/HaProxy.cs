using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoServer.Tests.Deployment;

/// <summary>
/// HAProxy on loopback with the settings of scripts/deploy/haproxy.cfg (everything above its server lines, as
/// scripts/cluster.sh uses them), one server line per instance, and a stats socket to read each server's state.
/// </summary>
internal sealed class HaProxy : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private HaProxy(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    private string StatsSocket => Path.Combine(_directory, "stats.sock");

    /// <summary>Starts HAProxy in front of <paramref name="servers"/> (echo port, admin port), each checked with GET /ready.</summary>
    public static HaProxy Start(string repoRoot, IReadOnlyList<(int Port, int AdminPort)> servers)
    {
        string directory = Directory.CreateTempSubdirectory("echo-haproxy-").FullName;
        int port = FreePort();
        var config = new StringBuilder();
        foreach (var line in File.ReadLines(Path.Combine(repoRoot, "scripts", "deploy", "haproxy.cfg")))
        {
            string trimmed = line.TrimStart();
            string indent = line[..(line.Length - trimmed.Length)];
            if (trimmed.StartsWith("server ", StringComparison.Ordinal))
            {
                break;
            }

            config.AppendLine(
                trimmed.StartsWith("bind ", StringComparison.Ordinal) ? $"{indent}bind 127.0.0.1:{port}" :
                trimmed.StartsWith("maxconn ", StringComparison.Ordinal) ? $"{indent}maxconn 4096" :
                line);
            if (trimmed == "global")
            {
                config.AppendLine(CultureInfo.InvariantCulture, $"    stats socket {Path.Combine(directory, "stats.sock")} level admin");
            }
        }

        for (int i = 0; i < servers.Count; i++)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"    server echo{i + 1} 127.0.0.1:{servers[i].Port} port {servers[i].AdminPort}");
        }

        string file = Path.Combine(directory, "haproxy.cfg");
        File.WriteAllText(file, config.ToString());
        var info = new ProcessStartInfo("haproxy") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-f", file, "-db" })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new HaProxy(process, directory, port);
    }

    /// <summary>Each server's state as HAProxy sees it (UP, DOWN, ...), by name; empty while the stats socket is not there yet.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ServerStatesAsync()
    {
        if (!File.Exists(StatsSocket))
        {
            return new Dictionary<string, string>();
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(StatsSocket));
        await socket.SendAsync("show stat\n"u8.ToArray(), SocketFlags.None);
        var text = new StringBuilder();
        var buffer = new byte[8192];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        // CSV: pxname, svname, ..., status is the 18th field.
        return text.ToString().Split('\n')
            .Select(l => l.Split(','))
            .Where(f => f.Length > 17 && f[0] == "echo_servers" && f[1].StartsWith("echo", StringComparison.Ordinal))
            .ToDictionary(f => f[1], f => f[17]);
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
