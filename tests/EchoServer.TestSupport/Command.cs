using System.Diagnostics;

namespace EchoServer.TestSupport;

/// <summary>Runs a command to its end, with a deadline, and returns what it printed.</summary>
internal static class Command
{
    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/>, writes <paramref name="input"/> (when given) to
    /// its standard input, and waits for it; null when it did not finish within <paramref name="within"/> (it is
    /// killed then) and an exit code of -1 when it could not be started.
    /// </summary>
    public static async Task<CommandResult?> RunAsync(string file, IReadOnlyList<string> args, TimeSpan within, string? input = null, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardInput = input is not null, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? string.Empty };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new CommandResult(-1, string.Empty, $"cannot run {file}: {ex.Message}");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(within);
            try
            {
                if (input is not null)
                {
                    await process.StandardInput.WriteAsync(input.AsMemory(), deadline.Token);
                    process.StandardInput.Close();
                }

                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            return new CommandResult(process.ExitCode, await stdout, await stderr);
        }
    }

    /// <summary>Runs <paramref name="file"/> to its end in <paramref name="workingDirectory"/>; fails the test with its output unless it exits 0 within <paramref name="within"/>. Returns stdout then stderr.</summary>
    public static async Task<(string Stdout, string Stderr)> RunCheckedAsync(string file, IReadOnlyList<string> args, TimeSpan within, string? workingDirectory = null)
    {
        string line = $"'{file} {string.Join(' ', args)}'";
        var result = await RunAsync(file, args, within, workingDirectory: workingDirectory);
        Xunit.Assert.True(result is not null, $"{line} did not finish within {within.TotalSeconds} s");
        Xunit.Assert.True(result!.ExitCode == 0, $"{line} exited {result.ExitCode}:\n{result.Stdout}{result.Stderr}");
        return (result.Stdout, result.Stderr);
    }
}

internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr);
