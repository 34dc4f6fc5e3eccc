using System.Diagnostics;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>Every shell script in scripts/ answers --help with its usage and refuses an unknown option, without building or starting anything.</summary>
public sealed class ScriptTests
{
    public static TheoryData<string> Scripts() => new(Directory.GetFiles(Path.Combine(Repository.Root, "scripts"), "*.sh").Select(Path.GetFileName).OfType<string>());

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Help_prints_the_usage_and_exits_0(string script)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the .sh scripts need bash
        }

        var (exitCode, stdout, stderr) = await RunAsync(script, "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains($"scripts/{script}", stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr);
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task An_unknown_option_gives_one_line_and_exit_code_2(string script)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the .sh scripts need bash
        }

        var (exitCode, stdout, stderr) = await RunAsync(script, "--no-such-option");

        Assert.Equal(2, exitCode);
        Assert.Equal($"{script}: unknown argument '--no-such-option' (see --help)", stderr.TrimEnd('\n'));
        Assert.Equal(string.Empty, stdout);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, string argument)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(Repository.Root, "scripts", script));
        info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
