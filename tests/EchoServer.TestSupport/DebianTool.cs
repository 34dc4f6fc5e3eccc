using Xunit;

namespace EchoServer.TestSupport;

/// <summary>A command some tests need from a Debian package, installed with apt-get when missing (CI runs as root).</summary>
internal static class DebianTool
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly SemaphoreSlim Installing = new(1, 1);
    private static readonly Dictionary<string, string> NonInteractive = new() { ["DEBIAN_FRONTEND"] = "noninteractive" };

    /// <summary>
    /// Makes sure <paramref name="command"/> is on PATH: installs <paramref name="package"/> when it is not, and
    /// fails the test saying why when it cannot.
    /// </summary>
    public static async Task RequireAsync(string command, string package)
    {
        if (ServerProcess.IsOnPath(command))
        {
            return;
        }

        // One apt-get at a time: parallel tests would fight over dpkg's lock.
        await Installing.WaitAsync();
        try
        {
            if (ServerProcess.IsOnPath(command))
            {
                return;
            }

            var first = await RunAsync("install", "-y", "--no-install-recommends", package);
            if (first.ExitCode != 0)
            {
                // A fresh machine has no package lists yet.
                var update = await RunAsync("update");
                var second = update.ExitCode == 0 ? await RunAsync("install", "-y", "--no-install-recommends", package) : update;
                if (second.ExitCode != 0)
                {
                    Assert.Fail($"'{command}' is needed from the Debian package '{package}', which is not installed and could not be installed: {second.Output.Trim()}");
                }
            }

            Assert.True(ServerProcess.IsOnPath(command), $"the Debian package '{package}' was installed but '{command}' is still not on PATH.");
        }
        finally
        {
            Installing.Release();
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var result = await Command.RunAsync("apt-get", args, InstallTimeout, environment: NonInteractive);
        if (result is null)
        {
            return (-1, $"apt-get {string.Join(' ', args)} did not finish within {InstallTimeout.TotalMinutes} minutes");
        }

        // apt-get says what went wrong on its "E:" lines (no such package, no permission, no network).
        var lines = $"{result.Stdout}\n{result.Stderr}".Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.StartsWith("E:", StringComparison.Ordinal)).ToList();
        return (result.ExitCode, errors.Count > 0 ? string.Join(" ", errors) : lines.LastOrDefault() ?? $"exit code {result.ExitCode}");
    }
}
