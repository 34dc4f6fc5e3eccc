using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace EchoServer.Diagnostics;

/// <summary>
/// The runtime's built-in <c>System.Runtime</c> meter (GC, thread pool, lock contention, working set) for the
/// Prometheus endpoint, with the few instruments Prometheus would misread put right: three gauges whose names
/// end in <c>.count</c> (Prometheus keeps <c>_count</c> for histograms) are renamed, and the thread pool's
/// queue length and thread count, which .NET 10 publishes as monotonic counters though they go down too, are
/// replaced by up-down counters read from <see cref="ThreadPool"/> on a meter of ours.
/// </summary>
internal static class RuntimeMetricsExport
{
    public const string RuntimeMeterName = "System.Runtime";

    /// <summary>The meter of the two thread pool replacements.</summary>
    public const string ReplacementMeterName = "EchoServer.Runtime";

    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["dotnet.assembly.count"] = "dotnet.assemblies",
        ["dotnet.timer.count"] = "dotnet.timers",
        ["dotnet.process.cpu.count"] = "dotnet.process.cpus",
    };

    private static readonly HashSet<string> Replaced = new(StringComparer.Ordinal) { "dotnet.thread_pool.queue.length", "dotnet.thread_pool.thread.count" };

    // Process-wide, like the runtime's own meter: every admin endpoint in the process reads the same thread pool.
    private static readonly Meter Replacements = CreateReplacements();

    public static MeterProviderBuilder AddRuntimeMetrics(this MeterProviderBuilder metrics) => metrics
        .AddMeter(RuntimeMeterName, Replacements.Name)
        .AddView(instrument => instrument.Meter.Name != RuntimeMeterName
            ? null
            : Replaced.Contains(instrument.Name)
                ? MetricStreamConfiguration.Drop
                : Renamed.TryGetValue(instrument.Name, out string? name) ? new MetricStreamConfiguration { Name = name } : null);

    private static Meter CreateReplacements()
    {
        var meter = new Meter(ReplacementMeterName);
        meter.CreateObservableUpDownCounter("dotnet.thread_pool.queue.length", () => ThreadPool.PendingWorkItemCount, "{work_item}", "The number of work items that are currently queued to be processed by the thread pool.");
        meter.CreateObservableUpDownCounter("dotnet.thread_pool.threads", () => (long)ThreadPool.ThreadCount, "{thread}", "The number of thread pool threads that currently exist.");
        return meter;
    }
}
