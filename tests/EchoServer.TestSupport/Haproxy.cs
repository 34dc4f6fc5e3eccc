using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace EchoServer.TestSupport;

/// <summary>
/// HAProxy (<c>mode tcp</c>) in front of a server, as a test's load balancer: one loopback frontend per backend
/// server line, each forwarding to the same address. HAProxy is found on PATH or in /usr/sbin, or installed
/// once with apt-get (CI runs as root); when neither works the test fails saying why.
/// </summary>
internal sealed class Haproxy : IDisposable
{

    private readonly Process _process;
    private readonly string _config;
    private readonly ConcurrentQueue<string> _output = new();

    private Haproxy(Process process, string config, IReadOnlyList<IPEndPoint> frontends)
    {
        _process = process;
        _config = config;
        Frontends = frontends;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The frontends, in the order of the server options they were asked for.</summary>
    public IReadOnlyList<IPEndPoint> Frontends { get; }

    /// <summary>
    /// Starts HAProxy with one frontend for each of <paramref name="serverOptions"/> (e.g. <c>send-proxy-v2</c>),
    /// each forwarding to <paramref name="backend"/> with those options; returns once every frontend listens.
    /// </summary>
    public static async Task<Haproxy> StartAsync(IPEndPoint backend, params string[] serverOptions)
    {
        string haproxy = await LocateAsync();
        int probe = FreePort();
        var frontends = serverOptions.Select(_ => new IPEndPoint(IPAddress.Loopback, FreePort())).ToList();
        var config = new StringBuilder();
        config.Append(CultureInfo.InvariantCulture, $"""
            defaults
              mode tcp
              timeout connect 5s
              timeout client 30s
              timeout server 30s

            # Answers only the readiness probe: every bind is in place before any is served.
            frontend probe
              bind 127.0.0.1:{probe}
              tcp-request connection reject

            """);
        for (int i = 0; i < frontends.Count; i++)
        {
            config.Append(CultureInfo.InvariantCulture, $"""
                frontend in{i}
                  bind {frontends[i]}
                  default_backend out{i}

                backend out{i}
                  server echo {backend} {serverOptions[i]}

                """);
        }

        string path = Path.Combine(Path.GetTempPath(), $"echo-haproxy-{Guid.NewGuid():N}.cfg");
        await File.WriteAllTextAsync(path, config.ToString());
        var start = new ProcessStartInfo(haproxy) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])["-db", "-f", path])
        {
            start.ArgumentList.Add(arg);
        }

        var proxy = new Haproxy(Process.Start(start)!, path, frontends);
        try
        {
            await proxy.WaitUntilListeningAsync(new IPEndPoint(IPAddress.Loopback, probe));
            return proxy;
        }
        catch
        {
            proxy.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        File.Delete(_config);
    }

    private async Task WaitUntilListeningAsync(IPEndPoint probe)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(probe);
                return;
            }
            catch (SocketException) when (!_process.HasExited && deadline.Elapsed < Eventually.Soon)
            {
                await Task.Delay(20);
            }
            catch (SocketException)
            {
                Assert.Fail($"HAProxy did not start listening within {Eventually.Soon.TotalSeconds:F0} s; its output:\n{string.Join('\n', _output)}");
            }
        }
    }

    private static Task<string> LocateAsync() =>
        DebianTool.LocateAsync("haproxy", "This test puts HAProxy in front of the server", "haproxy");

    // The port is free when asked; HAProxy binds it a moment later (nothing else on this machine races for it).
    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
