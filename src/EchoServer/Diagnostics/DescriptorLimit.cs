using System.Runtime.InteropServices;

namespace EchoServer.Diagnostics;

/// <summary>The process's open-file limit (RLIMIT_NOFILE) on Linux and macOS: every connection costs a descriptor.</summary>
internal static partial class DescriptorLimit
{
    /// <summary>Reads the soft and hard limits; null where the platform has none to read.</summary>
    public static (ulong Soft, ulong Hard)? Read()
    {
        if (!IsSupported || GetRLimit(Resource, out var limit) != 0)
        {
            return null;
        }

        return (limit.Current, limit.Maximum);
    }

    /// <summary>Raises the soft limit toward <paramref name="wanted"/>, never past the hard limit; returns the soft limit now in force.</summary>
    public static ulong? RaiseSoftLimit(ulong wanted)
    {
        if (Read() is not var (soft, hard))
        {
            return null;
        }

        if (soft >= wanted)
        {
            return soft;
        }

        var raised = new RLimit { Current = Math.Min(wanted, hard), Maximum = hard };
        return SetRLimit(Resource, in raised) == 0 ? raised.Current : soft;
    }

    private static bool IsSupported => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    private static int Resource => OperatingSystem.IsMacOS() ? 8 : 7;

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
