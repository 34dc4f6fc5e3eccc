using System.Diagnostics;
using System.Text;
using EchoServer.Cli;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>
/// Every script in scripts/, the bash one and its PowerShell twin alike, answers --help with its usage and refuses
/// an unknown option, without building or starting anything; the twins of the benchmark plan the same runs; and
/// run.ps1 starts a server that echoes, as run.sh does.
/// </summary>
public sealed class ScriptTests
{
    public static TheoryData<string> Scripts() => new(
        Directory.GetFiles(Path.Combine(Repository.Root, "scripts"), "*.sh")
            .Concat(Directory.GetFiles(Path.Combine(Repository.Root, "scripts"), "*.ps1"))
            .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Help_prints_the_usage_and_exits_0(string script)
    {
        if (OperatingSystem.IsWindows() && script.EndsWith(".sh", StringComparison.Ordinal))
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
        if (OperatingSystem.IsWindows() && script.EndsWith(".sh", StringComparison.Ordinal))
        {
            return; // the .sh scripts need bash
        }

        var (exitCode, stdout, stderr) = await RunAsync(script, "--no-such-option");

        Assert.Equal(2, exitCode);
        Assert.Equal($"{script}: unknown argument '--no-such-option' (see --help)", stderr.TrimEnd('\n', '\r'));
        Assert.Equal(string.Empty, stdout);
    }

    [Theory]
    [InlineData("--quick")]
    [InlineData("")]
    public async Task Both_benchmark_scripts_plan_the_same_runs_with_options_the_server_takes(string quick)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // bench.sh needs bash
        }

        const string servers = "c-epoll c-uring py-queue c-udp workers workers-aot executor executor-aot executor-threadpool executor-uring";
        var (shExit, plan, shError) = await RunAsync("bench.sh", [.. Flag(quick, "--quick"), "--dry-run", "--servers", servers]);
        var (psExit, psPlan, psError) = await RunAsync("bench.ps1", [.. Flag(quick, "-Quick"), "-DryRun", "-Servers", servers]);

        Assert.True(shExit == 0, shError);
        Assert.True(psExit == 0, psError);
        Assert.Equal(plan, psPlan);
        var lines = plan.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The peers: the seven plaintext TCP workloads (the Python one without the 10,000 idle or active); c-udp: the three UDP ones; the pools: all thirteen (the worker pool's without the 10,000 active); io_uring: the seven plaintext TCP ones.
        Assert.Equal((3 * 7) - 2 + 3 + (5 * 13) - 2 + 7, lines.Length);
        Assert.Contains("executor-uring 100c-64B: echo-server --pool executor --io-engine io_uring | echo-load -c 100 -s 64 ", plan, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("executor-uring udp-", StringComparison.Ordinal) || l.StartsWith("executor-uring tls-", StringComparison.Ordinal));
        Assert.Contains("executor udp-100c-64B: echo-server --pool executor --udp --udp-rate-per-ip 0 | echo-load --udp -c 100 -s 64 ", plan, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("c-udp", StringComparison.Ordinal) && !l.StartsWith("c-udp udp-", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(" udp-", StringComparison.Ordinal) && (l.StartsWith("c-epoll", StringComparison.Ordinal) || l.StartsWith("py-", StringComparison.Ordinal)));
        Assert.Contains("executor-threadpool 1c-64B: echo-server --pool executor --inline-completions false | echo-load -c 1 -s 64 ", plan, StringComparison.Ordinal);
        // TLS: the pools only, each run right after its plaintext twin, with the same load.
        Assert.DoesNotContain(lines, l => l.Contains(" tls-", StringComparison.Ordinal) && (l.StartsWith("c-", StringComparison.Ordinal) || l.StartsWith("py-", StringComparison.Ordinal)));
        int plaintext = Array.FindIndex(lines, l => l.StartsWith("workers 100c-64B: ", StringComparison.Ordinal));
        Assert.Equal(lines[plaintext].Replace("100c-64B: echo-server --pool workers | echo-load ", "tls-100c-64B: echo-server --pool workers --tls-self-signed | echo-load --tls --insecure ", StringComparison.Ordinal), lines[plaintext + 1]);
        Assert.Contains("executor tls-100c-16KiB: echo-server --pool executor --tls-self-signed | echo-load --tls --insecure -c 100 -s 16KiB ", plan, StringComparison.Ordinal);
        Assert.Contains("executor-aot tls-connect-50c: echo-server --pool executor --tls-self-signed | echo-load --tls --insecure --mode connect -c 50 -s 64 ", plan, StringComparison.Ordinal);
        Assert.Contains("workers-aot 1000c-1KiB: echo-server --pool workers --workers 1000 --max-connections 1100 | ", plan, StringComparison.Ordinal);
        // 10,000 (2,000 with --quick) active connections, every pool sized for them all as for the idle ones; not the Python peer.
        string many = quick.Length == 0 ? "10000" : "2000";
        string warmup = quick.Length == 0 ? "-d 5 --warmup 1" : "-d 2 --warmup 0.5";
        Assert.Contains($"executor-uring 10k-active: echo-server --pool executor --io-engine io_uring --workers {many} --max-connections {int.Parse(many, System.Globalization.CultureInfo.InvariantCulture) + 100} --queue {many} --when-full wait --backlog 4096 | echo-load -c {many} -s 64 {warmup} --progress 0 | exit 0", lines);
        Assert.Contains($"c-uring 10k-active: run-peer.sh c-uring | echo-load -c {many} -s 64 {warmup} --progress 0 | exit 0", lines);
        Assert.Equal(6, lines.Count(l => l.Contains(" 10k-active: ", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("workers", StringComparison.Ordinal) && l.Contains(" 10k-active: ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("py-queue 10k-", StringComparison.Ordinal));
        // Exit code 4 (clients never answered, datagrams lost) is accepted where starvation or loss is the point, and nowhere else.
        string[] acceptingLoss = ["py-queue 1000c-1KiB", .. "c-udp workers workers-aot executor executor-aot executor-threadpool".Split(' ').Select(s => $"{s} udp-rate-20k")];
        Assert.Equal(acceptingLoss, lines.Where(l => l.EndsWith("| exit 0 4", StringComparison.Ordinal)).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]));
        Assert.All(lines.Where(l => !l.StartsWith("py-queue 1000c", StringComparison.Ordinal) && !l.Contains(" udp-rate-20k:", StringComparison.Ordinal)), l => Assert.EndsWith("| exit 0", l, StringComparison.Ordinal));

        // Each pool command line is one the server's own parser accepts; the TLS rows add only --tls-self-signed to their twin's options.
        Assert.All(lines, l => Assert.Equal(l.Contains(" tls-", StringComparison.Ordinal), l.Contains(" --tls-self-signed", StringComparison.Ordinal)));
        foreach (var options in lines.Select(l => l.Split(" | ")[0]).Where(s => s.Contains(": echo-server ", StringComparison.Ordinal)).Select(s => s[(s.IndexOf(": echo-server ", StringComparison.Ordinal) + 14)..]).Distinct())
        {
            var parsed = new ServerCommand().Root.Parse(options.Split(' '));
            Assert.True(parsed.Errors.Count == 0, $"echo-server {options}: {string.Join("; ", parsed.Errors.Select(e => e.Message))}");
        }
    }

    [Fact]
    public async Task With_rounds_both_benchmark_scripts_alternate_the_servers_within_each_workload_round_by_round()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // bench.sh needs bash
        }

        const string servers = "c-epoll c-udp executor", workloads = "1c-64B 100c-64B udp-1c-64B";
        var (shExit, plan, shError) = await RunAsync("bench.sh", ["--quick", "--dry-run", "--rounds", "2", "--servers", servers, "--workloads", workloads]);
        var (psExit, psPlan, psError) = await RunAsync("bench.ps1", ["-Quick", "-DryRun", "-Rounds", "2", "-Servers", servers, "-Workloads", workloads]);

        Assert.True(shExit == 0, shError);
        Assert.True(psExit == 0, psError);
        Assert.Equal(plan, psPlan);
        string[] order =
        [
            "round 1 c-epoll 1c-64B", "round 1 executor 1c-64B", "round 1 c-epoll 100c-64B", "round 1 executor 100c-64B", "round 1 c-udp udp-1c-64B", "round 1 executor udp-1c-64B",
            // Round 2 starts its turns at the second of three servers (1 * 3 / 2).
            "round 2 executor 1c-64B", "round 2 c-epoll 1c-64B", "round 2 executor 100c-64B", "round 2 c-epoll 100c-64B", "round 2 c-udp udp-1c-64B", "round 2 executor udp-1c-64B",
        ];
        var lines = plan.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(order, lines.Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]));
        Assert.Contains("round 2 executor 100c-64B: echo-server --pool executor | echo-load -c 100 -s 64 -d 2 --warmup 0.5 --progress 0 | exit 0", lines);
    }

    [Theory]
    [InlineData("bench.sh", "--rounds", "0")]
    [InlineData("bench.sh", "--rounds", "two")]
    [InlineData("bench.ps1", "-Rounds", "0")]
    [InlineData("bench.ps1", "-Rounds", "1.5")]
    public async Task Rounds_other_than_a_positive_integer_give_one_line_and_exit_code_2(string script, string option, string value)
    {
        if (OperatingSystem.IsWindows() && script.EndsWith(".sh", StringComparison.Ordinal))
        {
            return; // the .sh scripts need bash
        }

        var (exitCode, stdout, stderr) = await RunAsync(script, [option, value, script.EndsWith(".sh", StringComparison.Ordinal) ? "--dry-run" : "-DryRun"]);

        Assert.Equal(2, exitCode);
        Assert.Equal($"{script}: {option} takes a positive integer, not '{value}'", stderr.TrimEnd('\n', '\r'));
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Run_ps1_builds_and_starts_a_server_that_echoes_as_run_sh_does()
    {
        string pwsh = await Pwsh.LocateAsync();
        using var server = ServerProcess.StartExecutable(pwsh, "-NoProfile", "-NonInteractive", "-File", Path.Combine(Repository.Root, "run.ps1"), "--port", "0");
        var endPoint = await server.WaitForListeningAsync(TimeSpan.FromMinutes(2)); // run.ps1 builds first, beside the other tests

        var payload = Encoding.ASCII.GetBytes("hello through run.ps1\n");
        using var client = await EchoClient.ConnectAsync(endPoint);
        Assert.Equal(payload, await client.RoundTripAsync(payload));
    }

    private static string[] Flag(string given, string spelling) => given.Length == 0 ? [] : [spelling];

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, string argument) => RunAsync(script, [argument]);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, string[] arguments)
    {
        string path = Path.Combine(Repository.Root, "scripts", script);
        var info = script.EndsWith(".ps1", StringComparison.Ordinal)
            ? new ProcessStartInfo(await Pwsh.LocateAsync()) { ArgumentList = { "-NoProfile", "-NonInteractive", "-File", path } }
            : new ProcessStartInfo("bash") { ArgumentList = { path } };
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // pwsh starts slowly on a busy machine
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
