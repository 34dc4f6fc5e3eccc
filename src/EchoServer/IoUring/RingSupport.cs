namespace EchoServer.IoUring;

/// <summary>Whether this kernel lets the process use io_uring the way the engine does.</summary>
internal static class RingSupport
{
    /// <summary>Null when a ring with a provided-buffer ring can be set up here; otherwise why not, as one line.</summary>
    public static string? Check()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "--io-engine io_uring needs Linux; use --io-engine sockets.";
        }

        try
        {
            using var ring = Ring.Create(4, 8);
            using var buffers = new BufferRing(ring, 0, 1, 64);
            return null;
        }
        catch (RingException ex)
        {
            return $"--io-engine io_uring: the kernel refuses io_uring ({ex.Message}); it may be disabled (sysctl kernel.io_uring_disabled), " +
                "filtered (seccomp, a container's profile) or too old (Linux 6.1 or later); use --io-engine sockets.";
        }
    }
}
