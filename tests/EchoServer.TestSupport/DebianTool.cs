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
    public static Task RequireAsync(string command, string package) =>
        LocateAsync(package, $"'{command}' is needed from the Debian package '{package}'", command);

    /// <summary>
    /// The full path of the first of <paramref name="commands"/> found on PATH or in /usr/sbin; installs
    /// <paramref name="package"/> when none is, and fails the test with <paramref name="purpose"/> and apt-get's
    /// error when it cannot.
    /// </summary>
    public static async Task<string> LocateAsync(string package, string purpose, params string[] commands)
    {
        if (Find(commands) is { } found)
        {
            return found;
        }

        var (exitCode, output) = await TryInstallAsync(package);
        var installed = Find(commands);
        Assert.True(installed is not null, exitCode != 0
            ? $"{purpose}: it is not installed and 'apt-get install {package}' failed (it needs root and a package source): {output}"
            : $"{purpose}: the Debian package '{package}' was installed but none of {string.Join(", ", commands)} is on PATH.");
        return installed!;
    }

    /// <summary>Installs <paramref name="packages"/> (updating the package lists once if the first try fails); apt-get's exit code and its error.</summary>
    public static async Task<(int ExitCode, string Output)> TryInstallAsync(params string[] packages)
    {
        // One apt-get at a time: parallel tests would fight over dpkg's lock.
        await Installing.WaitAsync();
        try
        {
            var first = await RunAsync(["install", "-y", "--no-install-recommends", .. packages]);
            if (first.ExitCode == 0)
            {
                return first;
            }

            // A fresh machine has no package lists yet.
            var update = await RunAsync(["update"]);
            return update.ExitCode == 0 ? await RunAsync(["install", "-y", "--no-install-recommends", .. packages]) : update;
        }
        finally
        {
            Installing.Release();
        }
    }

    private static string? Find(string[] commands) =>
        commands.SelectMany(c => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Append("/usr/sbin")
                .Select(folder => Path.Combine(folder, c)))
            .FirstOrDefault(File.Exists);

    private static async Task<(int ExitCode, string Output)> RunAsync(string[] args)
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
