using HdrHistogram;

namespace EchoServer.Hosting;

/// <summary>
/// Runs once, before the server says it is listening, the code its timers and signal handlers run later, so
/// that the assemblies they need are loaded by then. The runtime loads an assembly on the first call that needs it: later, with
/// every descriptor taken by clients, that load fails (the interval histogram of the stats line and the live view
/// needed <c>System.Threading.Tasks</c> that way) and the tick that needed it with it.
/// </summary>
internal static class RuntimeWarmUp
{
    /// <param name="snapshot">Renders the pool snapshot (SIGUSR1, <c>/snapshot</c>).</param>
    public static void Run(Func<string> snapshot)
    {
        // The calls the stats line and the live view make on their queue-wait recorders, on a throw-away one:
        // HdrHistogram targets netstandard, and its calls go through facade assemblies nothing else loads.
        var recorder = HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(1_000_000).WithPrecisionOf(2)
            .WithThreadSafeWrites().WithThreadSafeReads().Create();
        recorder.RecordValue(1);
        var interval = recorder.GetIntervalHistogram();
        _ = interval.TotalCount == 0 ? 0 : interval.GetValueAtPercentile(99);
        _ = snapshot();
    }
}
