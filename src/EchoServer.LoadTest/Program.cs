using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using EchoServer.CommandLine;

namespace EchoServer.LoadTest;

/// <summary>echo-load: drives an echo server, verifies every byte, and reports throughput and latency.</summary>
internal static class Program
{
    private const string Name = "echo-load";

    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> Main(string[] args)
    {
        // Socket completions run on the runtime's epoll thread, as a C epoll client would, instead of each
        // hopping to the thread pool: about 15% less client CPU per message here (scripts/README.md). Every
        // continuation is short and never blocks. Set the variable to 0 to measure with the hop. It is read
        // once, before the first socket.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        var command = new LoadCommand();
        command.Root.SetAction((result, cancellationToken) => RunAsync(command.Bind(result), cancellationToken));
        command.Summarize.SetAction((result, _) => SummarizeAsync(result.GetValue(command.SummarizeDirectory)!.FullName, result.GetValue(command.SummarizeTitle)!));
        command.Compare.SetAction((result, _) => CompareAsync(result.GetValue(command.CompareDirectory)!.FullName, result.GetValue(command.CompareTitle)!));
        var parseResult = Arguments.Parse(command.Root, args);
        if (await ParseErrors.ReportAsync(Name, parseResult, Console.Error))
        {
            return LoadExitCodes.Usage;
        }

        // Ctrl+C cancels the token: the run stops early and still prints its report.
        return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(5) });
    }

    private static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        IPEndPoint endPoint;
        try
        {
            endPoint = await ResolveAsync(options.Host, options.Port, cancellationToken);
        }
        catch (SocketException ex)
        {
            await Console.Error.WriteLineAsync($"{Name}: cannot resolve {options.Host}: {ex.Message}");
            return LoadExitCodes.Usage;
        }

        LoadRunner runner;
        try
        {
            runner = new LoadRunner(options, endPoint);
        }
        catch (TlsSetupException ex)
        {
            await ErrorLine.WriteAsync(Console.Error, $"{Name}: {ex.Message}");
            return LoadExitCodes.Usage;
        }

        var progress = new ProgressPrinter(Console.Error, interactive: !Console.IsErrorRedirected, TerminalWidth);
        var report = await runner.RunAsync(progress.Print, cancellationToken);
        progress.Finish();

        // --json -: the JSON alone on stdout (for a pipe), and the human report on stderr.
        bool jsonToStdout = options.JsonPath == "-";
        await (jsonToStdout ? Console.Error : Console.Out).WriteLineAsync(report.ToText());
        if (jsonToStdout)
        {
            await Console.Out.WriteLineAsync(report.ToJson());
        }
        else if (options.JsonPath is { } path)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }

            await File.WriteAllTextAsync(path, report.ToJson(), CancellationToken.None);
        }

        return report.ExitCode;
    }

    /// <summary>The terminal's width in columns, or 0 when there is none to ask.</summary>
    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (Exception ex) when (ex is IOException or PlatformNotSupportedException or InvalidOperationException)
        {
            return 0;
        }
    }

    private static async Task<int> SummarizeAsync(string directory, string title)
    {
        var summary = Summary.Load(directory);
        if (summary.Series.Count == 0)
        {
            await Console.Error.WriteLineAsync($"{Name}: no JSON reports in {directory}");
            return LoadExitCodes.Usage;
        }

        string markdown = summary.ToMarkdown();
        await File.WriteAllTextAsync(Path.Combine(directory, "summary.md"), markdown);
        summary.Charts().Write(directory, title);
        Console.Write(markdown);
        return LoadExitCodes.Ok;
    }

    private static async Task<int> CompareAsync(string directory, string title)
    {
        var table = BenchTable.Load(directory);
        string markdown = table.ToMarkdown();
        await File.WriteAllTextAsync(Path.Combine(directory, "bench.md"), markdown);
        table.Charts().Write(directory, title);
        Console.Write(markdown);
        return LoadExitCodes.Ok;
    }

    private static async Task<IPEndPoint> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            return new IPEndPoint(address, port);
        }

        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        return new IPEndPoint(addresses.First(), port);
    }
}
