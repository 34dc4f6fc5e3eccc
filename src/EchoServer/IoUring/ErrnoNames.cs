namespace EchoServer.IoUring;

/// <summary>The errno values a ring's set-up can answer, by name, for one readable line.</summary>
internal static class ErrnoNames
{
    public static string Describe(int errno) => errno switch
    {
        Interop.EPERM => "EPERM (operation not permitted)",
        Interop.ENOSYS => "ENOSYS (not implemented)",
        Interop.EINVAL => "EINVAL (invalid argument)",
        Interop.ENOMEM => "ENOMEM (out of memory, or the locked-memory limit)",
        Interop.EAGAIN => "EAGAIN (resource temporarily unavailable)",
        _ => $"errno {errno}",
    };
}
