using Xunit;

namespace EchoServer.TestSupport;

/// <summary>
/// PowerShell, for the <c>.ps1</c> twins of the scripts: <c>pwsh</c> on PATH, or else the PowerShell .NET tool,
/// installed once into a fixed tool path from the NuGet feed (the only network a CI clone has) and reused by
/// every later run and every test process.
/// </summary>
internal static class Pwsh
{
    /// <summary>The tool's version: without one, <c>dotnet tool install</c> may pick a release that does not run on this SDK.</summary>
    public const string Version = "7.6.10";

    private static readonly TimeSpan InstallLimit = TimeSpan.FromMinutes(5);
    private static readonly string ToolPath = Path.Combine(Path.GetTempPath(), "echo-server-test-tools", $"pwsh-{Version}");
    private static readonly SemaphoreSlim Installing = new(1, 1);

    /// <summary>The full path of pwsh; installs it when missing, and fails the test saying why when it cannot.</summary>
    public static async Task<string> LocateAsync()
    {
        if (Find() is { } found)
        {
            return found;
        }

        // One install at a time: in this process (parallel tests) and across processes (parallel test runs).
        await Installing.WaitAsync();
        try
        {
            using var crossProcess = await LockAsync(ToolPath + ".lock");
            if (Find() is { } installedMeanwhile)
            {
                return installedMeanwhile;
            }

            var result = await Command.RunAsync("dotnet", ["tool", "install", "--tool-path", ToolPath, "PowerShell", "--version", Version], InstallLimit);
            var installed = Find();
            string why = result is null ? $"it did not finish within {InstallLimit.TotalMinutes} minutes" : $"exit code {result.ExitCode}: {result.Stdout.Trim()} {result.Stderr.Trim()}";
            Assert.True(installed is not null, $"the .ps1 scripts run under PowerShell, and pwsh cannot be had: it is not on PATH, and 'dotnet tool install --tool-path {ToolPath} PowerShell --version {Version}' (which needs the NuGet feed) failed, {why}");
            return installed!;
        }
        finally
        {
            Installing.Release();
        }
    }

    private static string? Find()
    {
        string name = OperatingSystem.IsWindows() ? "pwsh.exe" : "pwsh";
        return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(ToolPath)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>An exclusive lock on <paramref name="path"/> (a file held open, released when disposed), waited for as long as an install may take.</summary>
    private static async Task<FileStream> LockAsync(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + InstallLimit + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another process holds it while it installs: wait for it, then find what it installed.
                await Task.Delay(200);
            }
        }
    }
}
