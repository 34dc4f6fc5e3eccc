using EchoServer.Diagnostics;
using EchoServer.IoUring;
using EchoServer.Pools;

namespace EchoServer.Hosting;

/// <summary>Configurations that cannot work are refused before binding; ones that make little sense are warned about.</summary>
internal static class StartupChecks
{
    /// <summary>
    /// Descriptors the runtime needs besides connections: its open assemblies, stdio, the epoll engine, the
    /// listener. Measured: 122 open when idle, and 124 the least limit that serves one client.
    /// </summary>
    public const int ReservedDescriptors = 144;

    /// <summary>
    /// Descriptors the admin endpoint adds: 96 for Kestrel itself (78 more measured idle, 88 to answer a scrape),
    /// plus one per connection it may hold (<see cref="AdminEndpoint.MaxConnections"/>), so that no flood of HTTP
    /// clients takes a descriptor promised to --max-connections.
    /// </summary>
    public const int AdminDescriptors = 96 + AdminEndpoint.MaxConnections;

    /// <summary>Memory maps each dedicated worker thread costs (stack, guard page): 1,000 more workers, 4,003 more maps.</summary>
    public const int MapsPerThread = 4;

    /// <summary>Memory maps the process holds besides worker threads: 571 measured idle, 904 with the admin endpoint; the rest is headroom.</summary>
    public const int BaseMaps = 1024;

    /// <summary>Threads the runtime, the accept loop and the admin endpoint start besides the workers (14 to 17 measured).</summary>
    public const int RuntimeThreads = 32;

    /// <summary>Dedicated threads beyond this on a small machine mostly context-switch.</summary>
    private const int ManyThreadsPerCore = 500;

    /// <summary>What the checks found: an error that stops start-up, warnings, and the descriptor limit in force.</summary>
    public sealed record Report(string? Error, IReadOnlyList<string> Warnings, ulong? DescriptorLimit);

    /// <summary>
    /// A default --max-connections lowered to what the descriptor limit allows (raised to its hard limit first),
    /// so that a machine with a small limit still starts with defaults; an explicit value is left to <see cref="Run"/>.
    /// </summary>
    public static ServerOptions FitDefaultMaxConnections(ServerOptions options)
    {
        if (!options.MaxConnectionsIsDefault)
        {
            return options;
        }

        ulong besides = ReservedDescriptors + (options.AdminPort is null ? 0UL : AdminDescriptors);
        ulong needed = (ulong)options.MaxConnections + besides;
        if (DescriptorLimit.RaiseSoftLimit(needed) is not { } soft || soft >= needed || soft <= besides)
        {
            return options; // enough, unknown, or too small for even one connection: Run reports that
        }

        return options with { MaxConnections = (int)(soft - besides), MaxConnectionsLoweredFrom = options.MaxConnections };
    }

    public static Report Run(ServerOptions options)
    {
        var warnings = new List<string>();
        var settings = options.PoolSettings;
        ulong needed = (ulong)options.MaxConnections + ReservedDescriptors + (options.AdminPort is null ? 0UL : AdminDescriptors);
        ulong? limit = DescriptorLimit.RaiseSoftLimit(needed);
        var hard = DescriptorLimit.Read()?.Hard;

        if (limit is { } soft && soft < needed)
        {
            return new Report(
                $"--max-connections {options.MaxConnections} needs about {needed} file descriptors but the process may open only {soft} (hard limit {hard}); lower --max-connections or raise the limit (ulimit -n).",
                warnings,
                soft);
        }

        if (options.IoEngine == IoEngine.IoUring && RingSupport.Check() is { } ringError)
        {
            return new Report(ringError, warnings, limit);
        }

        if (options.Pool == PoolKind.Workers && ThreadLimits.Read() is { } threadLimits && WorkerThreadsError(settings.Workers, threadLimits) is { } threadsError)
        {
            return new Report(threadsError, warnings, limit);
        }

        if (options.MaxConnectionsLoweredFrom is { } asked)
        {
            warnings.Add($"--max-connections lowered from its default {asked} to {options.MaxConnections}: the file descriptor limit is {limit} (hard limit {hard}); raise it (ulimit -n, LimitNOFILE=) for more.");
        }

        if (options.MaxConnections < settings.Workers)
        {
            warnings.Add($"--max-connections {options.MaxConnections} is below --workers {settings.Workers}: at most {options.MaxConnections} workers can ever be busy.");
        }

        if (options.Pool == PoolKind.Workers && settings.Workers > ManyThreadsPerCore * Environment.ProcessorCount)
        {
            warnings.Add($"--workers {settings.Workers} dedicated threads on {Environment.ProcessorCount} cores: under load most time goes to context switches; --pool executor serves that many clients without a thread each.");
        }

        if (options.ProxyProtocol == Connections.ProxyProtocolMode.Off && !options.TrustedProxies.Equals(Connections.TrustedProxies.Loopback))
        {
            warnings.Add("--trusted-proxies has no effect without --proxy-protocol.");
        }

        return new Report(null, warnings, limit);
    }

    /// <summary>Why <paramref name="workers"/> dedicated threads cannot start under <paramref name="limits"/>, or null when they can.</summary>
    public static string? WorkerThreadsError(int workers, ThreadLimits limits)
    {
        var allowed = new List<(long Threads, string Limit)>();
        if (limits.MaxMapCount is { } maps)
        {
            allowed.Add(((maps - BaseMaps) / MapsPerThread, $"vm.max_map_count {maps} (each thread takes {MapsPerThread} memory maps)"));
        }

        if (limits.ThreadsMax is { } threadsMax)
        {
            long running = limits.ThreadsRunning ?? 0;
            allowed.Add((threadsMax - running - RuntimeThreads, $"kernel.threads-max {threadsMax} ({running} threads running)"));
        }

        if (limits.ProcessLimit is { } processes)
        {
            allowed.Add((processes - RuntimeThreads, $"the process limit (ulimit -u) {processes}"));
        }

        if (allowed.Count == 0 || allowed.Min(a => a.Threads) is var most && workers <= most)
        {
            return null;
        }

        var tightest = allowed.MinBy(a => a.Threads);
        return $"--workers {workers} needs {workers} threads but {tightest.Limit} allows about {Math.Max(0, tightest.Threads)}; lower --workers, raise that limit, or use --pool executor (no thread per worker).";
    }
}
