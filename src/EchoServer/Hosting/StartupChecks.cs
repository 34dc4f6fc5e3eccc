using EchoServer.Diagnostics;
using EchoServer.Pools;

namespace EchoServer.Hosting;

/// <summary>Configurations that cannot work are refused before binding; ones that make little sense are warned about.</summary>
internal static class StartupChecks
{
    /// <summary>Descriptors the runtime, the listener, logging and the epoll engine need besides connections.</summary>
    public const int ReservedDescriptors = 64;

    /// <summary>Dedicated threads beyond this on a small machine mostly context-switch.</summary>
    private const int ManyThreadsPerCore = 500;

    /// <summary>What the checks found: an error that stops start-up, warnings, and the descriptor limit in force.</summary>
    public sealed record Report(string? Error, IReadOnlyList<string> Warnings, ulong? DescriptorLimit);

    public static Report Run(ServerOptions options)
    {
        var warnings = new List<string>();
        var settings = options.PoolSettings;
        ulong needed = (ulong)options.MaxConnections + ReservedDescriptors;
        ulong? limit = DescriptorLimit.RaiseSoftLimit(needed);
        var hard = DescriptorLimit.Read()?.Hard;

        if (limit is { } soft && soft < needed)
        {
            return new Report(
                $"--max-connections {options.MaxConnections} needs about {needed} file descriptors but the process may open only {soft} (hard limit {hard}); lower --max-connections or raise the limit (ulimit -n).",
                warnings,
                soft);
        }

        if (options.MaxConnections < settings.Workers)
        {
            warnings.Add($"--max-connections {options.MaxConnections} is below --workers {settings.Workers}: at most {options.MaxConnections} workers can ever be busy.");
        }

        if (options.Pool == PoolKind.Workers && settings.Workers > ManyThreadsPerCore * Environment.ProcessorCount)
        {
            warnings.Add($"--workers {settings.Workers} dedicated threads on {Environment.ProcessorCount} cores: under load most time goes to context switches; --pool executor serves that many clients without a thread each.");
        }

        return new Report(null, warnings, limit);
    }
}
