using EchoServer.TestSupport;

namespace EchoServer.Tests.Deployment;

/// <summary>The shipped unit file is one systemd accepts, and runs the server the way the deploy guide says.</summary>
public sealed class SystemdUnitTests
{
    [Fact]
    public async Task The_shipped_unit_passes_systemd_analyze_verify()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // systemd
        }

        string analyze = await DebianTool.LocateAsync("systemd", "checking scripts/deploy/echo-server.service needs systemd-analyze", "systemd-analyze");
        string unit = await File.ReadAllTextAsync(ShippedUnit.FilePath);
        Assert.Contains("Type=notify", unit, StringComparison.Ordinal);
        Assert.Contains("--log-format systemd", unit, StringComparison.Ordinal);
        Assert.Contains($"ExecStart={ShippedUnit.Executable} ", unit, StringComparison.Ordinal);

        // verify also checks that ExecStart names an executable: point it at this build's launcher.
        string folder = Directory.CreateTempSubdirectory("echo-unit-").FullName;
        try
        {
            string copy = Path.Combine(folder, "echo-server.service");
            await File.WriteAllTextAsync(copy, unit.Replace(ShippedUnit.Executable, Path.Combine(AppContext.BaseDirectory, "echo-server"), StringComparison.Ordinal));
            var result = await Command.RunAsync(analyze, ["verify", copy], TimeSpan.FromMinutes(1));
            Assert.True(result is not null, "systemd-analyze verify timed out");
            Assert.True(result!.ExitCode == 0 && result.Stderr.Trim().Length == 0, $"systemd-analyze verify: exit {result.ExitCode}\n{result.Stderr}{result.Stdout}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
