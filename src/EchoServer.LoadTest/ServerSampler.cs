using System.Globalization;

namespace EchoServer.LoadTest;

/// <summary>
/// Reads a local server's CPU time and resident memory from /proc (Linux), so that every figure a run reports
/// can stand next to what it cost the server.
/// </summary>
internal sealed class ServerSampler(int pid)
{
    // USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every mainstream Linux build.
    private const double TicksPerSecond = 100;

    private double _cpuAtStart;
    private long _peakRssBytes;

    public static bool IsSupported => OperatingSystem.IsLinux();

    public long PeakRssBytes => Volatile.Read(ref _peakRssBytes);

    public void Start()
    {
        _cpuAtStart = CpuSeconds() ?? 0;
        Sample();
    }

    /// <summary>Records the resident set size now, keeping the peak.</summary>
    public void Sample()
    {
        if (RssBytes() is { } rss && rss > _peakRssBytes)
        {
            Volatile.Write(ref _peakRssBytes, rss);
        }
    }

    /// <summary>Server CPU seconds (user + system) since <see cref="Start"/>.</summary>
    public double CpuSecondsSinceStart() => (CpuSeconds() ?? _cpuAtStart) - _cpuAtStart;

    private double? CpuSeconds()
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");

            // The command name may hold spaces: fields are counted after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private long? RssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // The server is gone; keep what was measured.
        }

        return null;
    }
}
