using Xunit;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace EchoServer.TestSupport;

/// <summary>The real executable started as a child process, with its output captured line by line.</summary>
internal sealed partial class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    private ServerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _stdout.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _stderr.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Stdout => _stdout.ToArray();

    public IReadOnlyList<string> Stderr => _stderr.ToArray();

    public int Id => _process.Id;

    public static string ExecutablePath => Path.Combine(AppContext.BaseDirectory, "echo-server.dll");

    public static ServerProcess Start(params string[] args) => Start(descriptorLimit: null, args);

    /// <summary>Starts another executable from the test output folder (e.g. echo-load.dll) the same way.</summary>
    public static ServerProcess StartTool(string dll, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new ServerProcess(Process.Start(info)!);
    }

    /// <summary>Starts a native executable (a published echo-server, say) the same way.</summary>
    public static ServerProcess StartExecutable(string path, params string[] args)
    {
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new ServerProcess(Process.Start(info)!);
    }

    /// <summary>Starts the server through a wrapper command, e.g. <c>prlimit --nofile=90</c>: <paramref name="wrapper"/> then <c>dotnet echo-server.dll</c> and <paramref name="args"/>.</summary>
    public static ServerProcess StartUnder(IReadOnlyList<string> wrapper, params string[] args)
    {
        var info = new ProcessStartInfo(wrapper[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in wrapper.Skip(1).Append("dotnet").Append(ExecutablePath).Concat(TestEngine.Apply(args)))
        {
            info.ArgumentList.Add(arg);
        }

        return new ServerProcess(Process.Start(info)!);
    }

    /// <summary>Starts the server the way a user does, through a script such as <c>run.sh</c> (which builds, then execs the server).</summary>
    public static ServerProcess StartScript(string script, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in args.Prepend(script))
        {
            info.ArgumentList.Add(arg);
        }

        return new ServerProcess(Process.Start(info)!);
    }

    /// <summary>True when <paramref name="command"/> is an executable file in a folder on PATH.</summary>
    public static bool IsOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, command)));

    /// <summary>Starts the server with extra environment variables (NOTIFY_SOCKET, as systemd sets it).</summary>
    public static ServerProcess StartWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        foreach (var arg in TestEngine.Apply(args).Prepend(ExecutablePath))
        {
            info.ArgumentList.Add(arg);
        }

        return new ServerProcess(Process.Start(info)!);
    }

    /// <summary>Starts the server under <c>ulimit -n</c> <paramref name="descriptorLimit"/> (soft and hard) when given.</summary>
    public static ServerProcess Start(int? descriptorLimit, params string[] args)
    {
        var info = new ProcessStartInfo(descriptorLimit is null ? "dotnet" : "/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (descriptorLimit is { } limit)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"ulimit -n {limit} && exec dotnet \"$0\" \"$@\"");
        }

        info.ArgumentList.Add(ExecutablePath);
        foreach (var arg in TestEngine.Apply(args))
        {
            info.ArgumentList.Add(arg);
        }

        return new ServerProcess(Process.Start(info)!);
    }

    /// <summary>Waits for the "Listening on" line and returns the endpoint it names.</summary>
    /// <param name="within">How long to wait; a start through a script that builds first needs far longer than the default.</param>
    public async Task<IPEndPoint> WaitForListeningAsync(TimeSpan? within = null)
    {
        string? line = null;
        await Eventually.True(
            () => (line = _stdout.FirstOrDefault(l => l.Contains("Listening on", StringComparison.Ordinal))) is not null || _process.HasExited,
            "the 'Listening on' line",
            within);
        Assert.False(line is null, $"the server exited early: {string.Join(" | ", Stderr)}");
        var match = ListeningLine().Match(line!);
        Assert.True(match.Success, $"unexpected first line: {line}");
        return new IPEndPoint(IPAddress.Parse(match.Groups["host"].Value), int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Waits for the admin endpoint's line and returns its port.</summary>
    public async Task<int> WaitForAdminPortAsync()
    {
        Match? match = null;
        await Eventually.True(
            () => (match = _stdout.Select(l => AdminLine().Match(l)).FirstOrDefault(m => m.Success)) is not null || _process.HasExited,
            "the 'Admin endpoint on' line");
        Assert.False(match is null, $"the server exited early: {string.Join(" | ", Stderr)}");
        return int.Parse(match!.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the server did not exit within {within.TotalSeconds} s");
        }

        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as a service manager or <c>kill</c> would.</summary>
    public void Terminate() => Signal(15);

    /// <summary>Sends a signal by number (2 = SIGINT, 10 = SIGUSR1 on Linux, 15 = SIGTERM).</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill failed: {Marshal.GetLastPInvokeError()}");
        }
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [GeneratedRegex(@"Admin endpoint on http://\S+:(?<port>\d+) ")]
    private static partial Regex AdminLine();

    [GeneratedRegex(@"Listening on (?<host>[0-9.]+):(?<port>\d+) \(pool=")]
    private static partial Regex ListeningLine();
}
