using System.Globalization;
using System.Text.RegularExpressions;
using EchoServer.Hosting;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Deployment;

/// <summary>Every file a user sizes descriptor limits from states the budget start-up really checks.</summary>
public sealed partial class DescriptorBudgetDocsTests
{
    public static TheoryData<string> Files => new() { "README.md", "scripts/deploy/README.md", "scripts/deploy/echo-server.service" };

    [Theory]
    [MemberData(nameof(Files))]
    public void The_descriptor_budget_is_the_one_start_up_checks(string file)
    {
        string text = Regex.Replace(File.ReadAllText(Path.Combine(Repository.Root, file)), @"\s+", " ");
        var stated = Budget().Matches(text);
        Assert.True(stated.Count > 0, $"{file} does not state the descriptor budget as '--max-connections + N descriptors, + M with the admin endpoint'");
        foreach (Match m in stated)
        {
            Assert.Equal((StartupChecks.ReservedDescriptors, StartupChecks.AdminDescriptors), (int.Parse(m.Groups["base"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["admin"].Value, CultureInfo.InvariantCulture)));
        }

        // Any other "max-connections + N" would be a second, stale figure.
        Assert.All(AnyBudget().Matches(text), m => Assert.Equal(StartupChecks.ReservedDescriptors.ToString(CultureInfo.InvariantCulture), m.Groups[1].Value));
    }

    [GeneratedRegex(@"max-connections`? \+ (?<base>\d+) descriptors, \+ (?<admin>\d+) with the admin endpoint")]
    private static partial Regex Budget();

    [GeneratedRegex(@"max-connections`? ?\+ ?(\d+)")]
    private static partial Regex AnyBudget();
}
