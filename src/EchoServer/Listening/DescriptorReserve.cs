using EchoServer.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace EchoServer.Listening;

/// <summary>
/// Keeps a few file descriptors in hand (open on /dev/null) for the runtime. On Linux the runtime needs
/// descriptors to start a thread; if accept ever takes the last one, the next thread the thread pool starts
/// fails and the process aborts ("Out of memory."). When an accepted socket's descriptor comes near the
/// limit (descriptors are numbered lowest-free first), or accept reports exhaustion, the listener releases
/// the reserve, then accepts only while more than the reserve stays free, and takes the reserve back once
/// usage has fallen well below the limit.
/// </summary>
internal sealed class DescriptorReserve : IDisposable
{
    private readonly List<SafeFileHandle> _held = [];
    private readonly int _size;

    public DescriptorReserve(int size)
    {
        _size = size;
        Restore();
    }

    /// <summary>True while the reserve is handed back and accepting is throttled.</summary>
    public bool UnderPressure { get; private set; }

    /// <summary>Descriptors this process has open now, and its limit; null where /proc is not there to count them.</summary>
    public static (int Open, ulong Limit)? Usage()
    {
        if (!OperatingSystem.IsLinux() || DescriptorLimit.Read() is not var (soft, _))
        {
            return null;
        }

        try
        {
            return (Directory.EnumerateFileSystemEntries("/proc/self/fd").Count(), soft);
        }
        catch (IOException)
        {
            // Counting needs a descriptor too: none is free.
            return ((int)Math.Min(soft, int.MaxValue), soft);
        }
    }

    /// <summary>True when <paramref name="descriptor"/> (just accepted) is within twice the reserve of the limit.</summary>
    public bool IsNearLimit(nint descriptor) =>
        !OperatingSystem.IsWindows() && DescriptorLimit.Read() is var (soft, _) && (ulong)descriptor + (ulong)(2 * _size) >= soft;

    /// <summary>Descriptors are (nearly) exhausted: hand the reserve to the runtime and start throttling.</summary>
    public void Release()
    {
        UnderPressure = true;
        foreach (var handle in _held)
        {
            handle.Dispose();
        }

        _held.Clear();
    }

    /// <summary>
    /// Under pressure: true when an accept may take a descriptor and still leave the reserve's worth free.
    /// Takes the reserve back, and ends the pressure, once usage is below the limit by four times the reserve:
    /// with the reserve back in hand that is one reserve clear of the point where pressure starts again.
    /// </summary>
    public bool MayAccept()
    {
        if (!UnderPressure)
        {
            return true;
        }

        if (Usage() is not var (open, limit))
        {
            return true; // nothing to count with: rely on the back-off alone
        }

        if ((ulong)open + (ulong)(4 * _size) <= limit)
        {
            Restore();
            UnderPressure = false;
            return true;
        }

        return (ulong)open + 1 + (ulong)_size <= limit;
    }

    public void Dispose() => Release();

    private void Restore()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            while (_held.Count < _size)
            {
                _held.Add(File.OpenHandle("/dev/null"));
            }
        }
        catch (IOException)
        {
            // Fewer in hand this time; the next pressure releases what there is.
        }
    }
}
