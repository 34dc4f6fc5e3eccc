using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using EchoServer.Cli;
using EchoServer.CommandLine;
using EchoServer.Hosting;
using EchoServer.Listening;
using EchoServer.Pools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EchoServer;

/// <summary>Entry point: parse the command line, run the host, turn user mistakes into one line and an exit code.</summary>
internal static class Program
{
    private const string Name = "echo-server";

    public static async Task<int> Main(string[] args)
    {
        var command = new ServerCommand();
        command.Root.SetAction((result, cancellationToken) => RunAsync(command.Bind(result), cancellationToken));
        var parseResult = Arguments.Parse(command.Root, args);
        if (await ParseErrors.ReportAsync(Name, parseResult, Console.Error))
        {
            return ExitCodes.Usage;
        }

        // The host owns Ctrl+C and SIGTERM (graceful drain); the command line must not handle them too.
        return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static async Task<int> RunAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        options = StartupChecks.FitDefaultMaxConnections(options);

        // The runtime's socket engine reads this variable once, when it starts: before the first socket exists.
        // Set either way, so that a value inherited from the environment cannot override the option.
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", options.Pool == PoolKind.Executor && options.InlineCompletions ? "1" : "0");

        // Checked before the host loads Kestrel, logging and the pool: with too few descriptors or threads for
        // those, the process would abort before it could say why.
        if (StartupChecks.Run(options).Error is { } error)
        {
            await ErrorLine.WriteAsync(Console.Error, $"{Name}: {error}");
            return ExitCodes.Usage;
        }

        PidFile? pidFile;
        try
        {
            pidFile = options.PidFile is { } path ? PidFile.Prepare(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await ErrorLine.WriteAsync(Console.Error, $"{Name}: cannot write --pid-file {options.PidFile}: {ex.Message}");
            return ExitCodes.CannotStart;
        }
        catch (StartupException ex)
        {
            await ErrorLine.WriteAsync(Console.Error, $"{Name}: {ex.Message}");
            return ExitCodes.Usage;
        }

        using var removePidFile = pidFile;
        using var host = EchoServerHost.Create(options);
        if (pidFile is not null)
        {
            host.Services.GetRequiredService<EchoServerService>().OnBound = pidFile.Publish;
        }

        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (SocketException ex)
        {
            await ErrorLine.WriteAsync(Console.Error, $"{Name}: cannot listen on {EndPoints.Format(new IPEndPoint(options.Host, options.Port))}: {ex.Message}");
            return ExitCodes.CannotStart;
        }
        catch (ListenException ex)
        {
            await ErrorLine.WriteAsync(Console.Error, $"{Name}: {ex.Message}");
            return ExitCodes.CannotStart;
        }
        catch (StartupException ex)
        {
            await ErrorLine.WriteAsync(Console.Error, $"{Name}: {ex.Message}");
            return ExitCodes.Usage;
        }

        await host.WaitForShutdownAsync(CancellationToken.None);
        return ExitCodes.Ok;
    }
}
