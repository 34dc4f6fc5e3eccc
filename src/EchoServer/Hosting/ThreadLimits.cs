using System.Globalization;

namespace EchoServer.Hosting;

/// <summary>
/// What caps the number of threads this process can start, as Linux reports it in /proc. Every thread costs
/// memory maps (its stack and guard page: vm.max_map_count), a kernel task (kernel.threads-max, system-wide)
/// and a process slot of its user (RLIMIT_NPROC). Past any of them the runtime cannot start a thread and the
/// process aborts ("Out of memory."). Null where a value cannot be read or is unlimited.
/// </summary>
internal sealed record ThreadLimits(long? MaxMapCount, long? ThreadsMax, long? ThreadsRunning, long? ProcessLimit)
{
    /// <summary>The limits in force; null off Linux.</summary>
    public static ThreadLimits? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return new ThreadLimits(
            ReadNumber("/proc/sys/vm/max_map_count"),
            ReadNumber("/proc/sys/kernel/threads-max"),
            ReadThreadsRunning(),
            ReadProcessLimit());
    }

    private static long? ReadNumber(string path) =>
        TryRead(path) is { } text && long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;

    /// <summary>The fourth field of /proc/loadavg, "running/total", counts every thread on the system.</summary>
    private static long? ReadThreadsRunning()
    {
        var fields = TryRead("/proc/loadavg")?.Split(' ');
        string? total = fields is { Length: > 3 } ? fields[3].Split('/').ElementAtOrDefault(1) : null;
        return long.TryParse(total, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;
    }

    /// <summary>The soft limit on the line "Max processes  SOFT  HARD  processes" of /proc/self/limits.</summary>
    private static long? ReadProcessLimit()
    {
        var line = TryRead("/proc/self/limits")?.Split('\n').FirstOrDefault(l => l.StartsWith("Max processes", StringComparison.Ordinal));
        var fields = line?["Max processes".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: > 0 } && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
