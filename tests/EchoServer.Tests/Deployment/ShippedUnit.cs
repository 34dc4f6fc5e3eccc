using System.Globalization;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Deployment;

/// <summary>What scripts/deploy/echo-server.service runs: its <c>ExecStart</c> and its <c>LimitNOFILE</c>, read from the file.</summary>
internal static class ShippedUnit
{
    /// <summary>Where the unit expects the published server (scripts/publish.sh --out /opt/echo-server).</summary>
    public const string Executable = "/opt/echo-server/echo-server";

    public static string FilePath => Path.Combine(Repository.Root, "scripts", "deploy", "echo-server.service");

    /// <summary>The executable <c>ExecStart</c> names, then its options, split as systemd splits them (the unit quotes nothing).</summary>
    public static (string Executable, IReadOnlyList<string> Options) ExecStart()
    {
        string line = Setting("ExecStart");
        Assert.DoesNotContain('"', line);
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (words[0], words[1..]);
    }

    /// <summary>The value of <paramref name="option"/> in <c>ExecStart</c>; fails when the unit does not set it.</summary>
    public static string Option(string option)
    {
        var options = ExecStart().Options.ToList();
        int at = options.IndexOf(option);
        Assert.True(at >= 0 && at + 1 < options.Count, $"{FilePath}: ExecStart sets no {option}");
        return options[at + 1];
    }

    /// <summary>The unit's own options with <paramref name="replacements"/> (option, new value) applied; fails when one is not there to replace.</summary>
    public static string[] OptionsWith(params (string Option, string Value)[] replacements)
    {
        var options = ExecStart().Options.ToArray();
        foreach (var (option, value) in replacements)
        {
            int at = Array.IndexOf(options, option);
            Assert.True(at >= 0 && at + 1 < options.Length, $"{FilePath}: ExecStart sets no {option}");
            options[at + 1] = value;
        }

        return options;
    }

    /// <summary>The descriptor limit the unit gives the server (<c>LimitNOFILE=</c>).</summary>
    public static int DescriptorLimit() => int.Parse(Setting("LimitNOFILE"), CultureInfo.InvariantCulture);

    private static string Setting(string name)
    {
        var lines = File.ReadLines(FilePath).Where(l => l.StartsWith(name + "=", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, $"{FilePath}: {lines.Count} {name}= lines, expected one");
        return lines[0][(name.Length + 1)..].Trim();
    }
}
