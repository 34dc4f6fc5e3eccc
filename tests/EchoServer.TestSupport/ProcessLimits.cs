using System.Runtime.InteropServices;

namespace EchoServer.TestSupport;

/// <summary>Reads another process's CPU time, memory and descriptors from /proc, and changes its descriptor limit (Linux).</summary>
internal static partial class ProcessLimits
{
    /// <summary>Sets RLIMIT_NOFILE of process <paramref name="pid"/> (soft and hard) through prlimit(2).</summary>
    public static void SetDescriptorLimit(int pid, ulong limit)
    {
        var value = new RLimit { Current = limit, Maximum = limit };
        if (PrLimit(pid, 7, in value, IntPtr.Zero) != 0)
        {
            throw new InvalidOperationException($"prlimit failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public static int OpenDescriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    /// <summary>User plus system CPU time of the process, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }

    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    [LibraryImport("libc", EntryPoint = "prlimit", SetLastError = true)]
    private static partial int PrLimit(int pid, int resource, in RLimit newLimit, IntPtr oldLimit);

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
