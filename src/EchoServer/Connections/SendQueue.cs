using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EchoServer.Connections;

/// <summary>Bytes a socket has sent that its peer has not acknowledged yet (Linux SIOCOUTQ): what a reset would lose.</summary>
internal static partial class SendQueue
{
    private const nuint SiocOutq = 0x5411; // TIOCOUTQ

    /// <summary>The bytes not yet acknowledged, or null where the platform cannot tell.</summary>
    public static int? Unsent(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return IoctlInt(socket.SafeHandle.DangerousGetHandle(), SiocOutq, out int value) == 0 ? value : null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlInt(nint descriptor, nuint request, out int value);
}
