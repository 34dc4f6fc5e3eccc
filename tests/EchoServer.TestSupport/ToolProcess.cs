using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace EchoServer.TestSupport;

/// <summary>
/// An external tool a test runs (HAProxy, nginx): its output kept for failure messages; killed, and its folder
/// (configuration, sockets) removed, at the end.
/// </summary>
internal sealed class ToolProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _name;
    private readonly string _folder;
    private readonly ConcurrentQueue<string> _output = new();

    private ToolProcess(Process process, string name, string folder)
    {
        _process = process;
        _name = name;
        _folder = folder;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything the tool wrote to stdout and stderr so far.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <paramref name="executable"/>, which owns <paramref name="folder"/> from now on; under a descriptor
    /// limit (soft and hard, as systemd's <c>LimitNOFILE=</c> sets it) when one is given.
    /// </summary>
    public static ToolProcess Start(string name, string folder, string executable, IEnumerable<string> args, int? descriptorLimit = null)
    {
        // prlimit sets the limit and execs the tool: still one process, killed as one.
        var command = descriptorLimit is { } limit ? ["prlimit", $"--nofile={limit}:{limit}", executable, .. args] : args.Prepend(executable).ToArray();
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        return new ToolProcess(Process.Start(start)!, name, folder);
    }

    /// <summary>Returns once <paramref name="endpoint"/> accepts a connection; fails with the tool's output when it exits or never does.</summary>
    public async Task WaitUntilListeningAsync(IPEndPoint endpoint)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endpoint);
                return;
            }
            catch (SocketException) when (!_process.HasExited && deadline.Elapsed < Eventually.Soon)
            {
                await Task.Delay(20);
            }
            catch (SocketException)
            {
                Assert.Fail($"{_name} did not start listening on {endpoint} within {Eventually.Soon.TotalSeconds:F0} s; its output:\n{Output}");
            }
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
        Directory.Delete(_folder, recursive: true);
    }
}
