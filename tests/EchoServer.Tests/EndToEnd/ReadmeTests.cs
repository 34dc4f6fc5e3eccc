using System.Text.RegularExpressions;
using EchoServer.TestSupport;
using Xunit.Abstractions;

namespace EchoServer.Tests.EndToEnd;

/// <summary>
/// The README cannot go stale: every command it shows (each line of a <c>bash</c> block, and each <c>$ </c> line
/// of a transcript) is run here against a server started through <c>run.sh</c>, or is listed below with the
/// place that runs it instead. A new command that is neither fails this test, and so does a stale listing.
/// </summary>
public sealed partial class ReadmeTests(ITestOutputHelper output)
{
    private const string PidFilePlaceholder = "/tmp/echo-server.pid";

    /// <summary>The admin port every example uses (the README, the shipped unit and HAProxy file): no well-known service's.</summary>
    private const int AdminPort = 7008;

    /// <summary>Commands run elsewhere, and where: the test checks each is still in the README.</summary>
    private static readonly Dictionary<string, string> RunElsewhere = new(StringComparer.Ordinal)
    {
        ["./run.sh test"] = ".ci/run runs it: it is the CI",
    };

    /// <summary>Blocks whose every line runs in another test (the first line identifies the block).</summary>
    private static readonly Dictionary<string, string> BlocksRunElsewhere = new(StringComparer.Ordinal)
    {
    };

    [Fact]
    public async Task Every_command_in_the_readme_runs()
    {
        string root = Repository.Root;
        var blocks = ParseBlocks(File.ReadAllLines(Path.Combine(root, "README.md")));
        var commands = blocks.SelectMany(b => b).ToList();
        Assert.NotEmpty(commands);
        foreach (var listed in RunElsewhere.Keys.Concat(BlocksRunElsewhere.Keys))
        {
            Assert.True(commands.Contains(listed), $"'{listed}' is listed as run elsewhere but is no longer in the README");
        }

        string pidFile = Path.Combine(Path.GetTempPath(), $"echo-server-readme-{Guid.NewGuid():N}.pid");
        using var server = ServerProcess.StartScript(Path.Combine(root, "run.sh"), "--port", "0", "--admin-port", "0", "--pid-file", pidFile, "--udp");
        var endPoint = await server.WaitForListeningAsync(TimeSpan.FromMinutes(2)); // run.sh builds first, beside the other tests
        await Eventually.True(() => server.Stdout.Any(l => AdminLine().IsMatch(l)), "the admin endpoint line");
        int adminPort = int.Parse(AdminLine().Match(server.Stdout.First(l => AdminLine().IsMatch(l))).Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);

        await DebianTool.RequireAsync("nc", "netcat-openbsd");
        await DebianTool.RequireAsync("curl", "curl");
        await DebianTool.RequireAsync("socat", "socat");
        foreach (var block in blocks)
        {
            if (BlocksRunElsewhere.ContainsKey(block[0]))
            {
                continue;
            }

            // A server start in the README ("./run.sh", "./run.sh --pid-file … &") is the server this test started
            // through the same script, on a free port: tests never take a fixed one.
            var script = block
                .Where(c => !RunElsewhere.ContainsKey(c) && !IsServerStart(c))
                .Select(c => c.Replace($"127.0.0.1:{AdminPort}", $"127.0.0.1:{adminPort}", StringComparison.Ordinal)
                              .Replace("7007", endPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                              .Replace(PidFilePlaceholder, pidFile, StringComparison.Ordinal))
                .ToList();
            if (script.Count == 0)
            {
                continue;
            }

            string text = string.Join('\n', script.Prepend("set -euo pipefail"));
            output.WriteLine($"--- running:\n{text}");
            var result = await Command.RunAsync("bash", ["-c", $"cd \"{root}\" && {text}"], TimeSpan.FromSeconds(120));
            Assert.True(result is not null, $"the README block timed out:\n{text}");
            output.WriteLine(result!.Stdout);
            Assert.True(result.ExitCode == 0, $"the README block failed with exit code {result.ExitCode}:\n{text}\n{result.Stderr}");
        }

        // `kill -USR1` is one of the commands: the snapshot it asks for must have reached the log.
        await Eventually.True(() => server.Stdout.Any(l => l.Contains("Snapshot: pool=", StringComparison.Ordinal)), "the snapshot that kill -USR1 asked for");
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task The_snapshot_example_works_pasted_as_one_block_and_its_sample_shows_the_pool_it_starts()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the example is a bash block with kill -USR1
        }

        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "README.md"));
        var block = ParseBlocks(lines).Single(b => b.Any(c => c.StartsWith("kill -USR1", StringComparison.Ordinal)));
        var design = File.ReadAllLines(Path.Combine(Repository.Root, "src", "README.md")); // the sample output lives beside the design
        string samplePool = SnapshotPool().Match(design.First(l => SnapshotPool().IsMatch(l))).Groups["pool"].Value;

        // Pasted as it is, but with the built executable for run.sh (which builds first: slower still) on a free port.
        string pidFile = Path.Combine(Path.GetTempPath(), $"echo-server-readme-{Guid.NewGuid():N}.pid");
        var script = block.Select(c => c.Replace(PidFilePlaceholder, pidFile, StringComparison.Ordinal))
            .Select(c => IsServerStart(c)
                ? c.Replace("./run.sh", $"dotnet \"{ServerProcess.ExecutablePath}\" --port 0", StringComparison.Ordinal)
                   .Replace(" &", " > \"$log\" 2>&1 &\ntrap 'kill $! 2>/dev/null || true' EXIT", StringComparison.Ordinal)
                : c)
            .Append($"until grep -q 'Snapshot: queue' \"$log\"; do sleep 0.2; done")
            .Append($"kill -TERM \"$(cat {pidFile})\"")
            .Append("wait")
            .Append("cat \"$log\"");
        string text = string.Join('\n', script.Prepend("log=\"$(mktemp)\"").Prepend("set -euo pipefail"));
        output.WriteLine(text);

        var result = await Command.RunAsync("bash", ["-c", text], TimeSpan.FromSeconds(60));

        Assert.True(result is not null, "the block did not finish");
        Assert.True(result!.ExitCode == 0, $"the block failed with exit code {result.ExitCode}:\n{result.Stderr}");
        Assert.Contains($"Snapshot: pool={samplePool} ", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_example_uses_one_admin_port_that_no_well_known_service_uses()
    {
        // Prometheus 9090, its push gateway 9091, Alertmanager 9093, node_exporter 9100, Grafana 3000, HTTP 8080.
        int[] wellKnown = [9090, 9091, 9093, 9100, 3000, 8080];
        string root = Repository.Root;
        var found = new[] { "README.md", "scripts/deploy/README.md", "scripts/deploy/echo-server.service", "scripts/deploy/haproxy.cfg" }
            .SelectMany(f => AdminPortMention().Matches(File.ReadAllText(Path.Combine(root, f))).Select(m => (File: f, Port: int.Parse(m.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture))))
            .Where(m => m.Port != 0)
            .ToList();

        Assert.NotEmpty(found);
        Assert.All(found, m => Assert.True(m.Port == AdminPort, $"{m.File} shows admin port {m.Port}, the others {AdminPort}"));
        Assert.DoesNotContain(AdminPort, wellKnown);
    }

    [Fact]
    public void The_readme_stays_short()
    {
        int lines = File.ReadAllLines(Path.Combine(Repository.Root, "README.md")).Length;
        Assert.True(lines < 250, $"README.md has {lines} lines: what a user needs first, the rest beside what it describes (src/README.md, scripts/README.md)");
    }

    private static bool IsServerStart(string command) => command.StartsWith("./run.sh", StringComparison.Ordinal) && command != "./run.sh test";

    /// <summary>The commands of each block: every line of a bash block, or the <c>$ </c> lines of a transcript, without trailing comments.</summary>
    private static List<List<string>> ParseBlocks(string[] lines)
    {
        var blocks = new List<List<string>>();
        List<string>? current = null;
        bool bash = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                if (current is null)
                {
                    current = [];
                    bash = line.Trim() == "```bash";
                }
                else
                {
                    if (current.Count > 0)
                    {
                        blocks.Add(current);
                    }

                    current = null;
                }

                continue;
            }

            if (current is null)
            {
                continue;
            }

            string command = bash ? line : line.StartsWith("$ ", StringComparison.Ordinal) ? line[2..] : string.Empty;
            command = TrailingComment().Replace(command, string.Empty).Trim();
            if (command.Length > 0)
            {
                current.Add(command);
            }
        }

        return blocks;
    }

    [GeneratedRegex(@"\s{2,}#.*$")]
    private static partial Regex TrailingComment();

    [GeneratedRegex(@"^Snapshot: pool=(?<pool>\w+) ")]
    private static partial Regex SnapshotPool();

    /// <summary>Where an example names the admin port: the option, a URL of one of its paths, an HAProxy check port.</summary>
    [GeneratedRegex(@"--admin-port (?<port>\d+)|:(?<port>\d+)/(?:metrics|ready|healthz|snapshot)|(?<!-)\bport (?<port>\d+)[ `]")]
    private static partial Regex AdminPortMention();

    [GeneratedRegex(@"Admin endpoint on http://127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex AdminLine();
}
