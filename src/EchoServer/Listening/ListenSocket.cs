using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EchoServer.Listening;

/// <summary>The listening socket's platform details: binding over TIME_WAIT (and sharing a port only when asked), and the length of its accept backlog.</summary>
internal static class ListenSocket
{
    /// <summary>True where <see cref="Bind"/> can share a port between processes (SO_REUSEPORT).</summary>
    public static bool SupportsReusePort => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>
    /// Plain SO_REUSEADDR on Unix, and SO_REUSEPORT only when <paramref name="reusePort"/> asks for it (see
    /// <see cref="Bind"/>): for every socket on the server's port, the UDP echo's too.
    /// </summary>
    public static void SetPortSharing(Socket socket, bool reusePort)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
            if (reusePort)
            {
                socket.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, BitConverter.GetBytes(1));
            }
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            socket.SetRawSocketOption(0xffff /* SOL_SOCKET */, 4 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
            if (reusePort && OperatingSystem.IsMacOS())
            {
                socket.SetRawSocketOption(0xffff /* SOL_SOCKET */, 0x200 /* SO_REUSEPORT */, BitConverter.GetBytes(1));
            }
        }

        if (reusePort && !SupportsReusePort)
        {
            throw new PlatformNotSupportedException("SO_REUSEPORT is available on Linux and macOS only.");
        }
    }

    /// <summary>
    /// Creates, binds and listens. On Unix it sets plain SO_REUSEADDR, which lets a restarted server bind while old
    /// connections sit in TIME_WAIT but never lets two servers share the port: .NET's ReuseAddress option would
    /// also set SO_REUSEPORT on Linux, and a second server would then start and take half the connections.
    /// Only when <paramref name="reusePort"/> asks for it (--reuse-port) is SO_REUSEPORT set, so that several
    /// processes that all ask for it share the port and the kernel spreads new connections across them.
    /// </summary>
    public static Socket Bind(IPEndPoint endPoint, int backlog, bool reusePort = false)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            SetPortSharing(socket, reusePort);

            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connections completed by the kernel and not accepted yet (Linux TCP_INFO of a listener); null where unknown.</summary>
    public static int? Backlog(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Span<byte> info = stackalloc byte[104];
        try
        {
            int length = socket.GetRawSocketOption(6 /* IPPROTO_TCP */, 11 /* TCP_INFO */, info);

            // For a listening socket the kernel reports its accept queue length in tcpi_unacked (offset 24).
            return length >= 28 ? (int)BinaryPrimitives.ReadUInt32LittleEndian(info[24..]) : null;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }
}
