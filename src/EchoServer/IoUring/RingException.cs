namespace EchoServer.IoUring;

/// <summary>A ring could not be set up or used: which call failed, and the kernel's errno.</summary>
internal sealed class RingException(string call, int errno) : Exception($"{call} failed: {ErrnoNames.Describe(errno)}")
{
    /// <summary>The kernel's error number (positive).</summary>
    public int Errno { get; } = errno;
}
