using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EchoServer.Listening;

namespace EchoServer.Datagrams;

/// <summary>
/// The UDP socket, read and written with recvmsg/sendmsg on Linux: the source address is kept as raw bytes
/// (no endpoint object per datagram) and each reply carries the address its datagram was sent to
/// (IP_PKTINFO / IPV6_PKTINFO), so a server bound to 0.0.0.0 or :: answers from the address the client
/// asked, not from whichever one the route prefers. Elsewhere the runtime's calls do the same work, with an
/// endpoint per datagram and the kernel's choice of source address.
/// </summary>
internal sealed partial class DatagramSocket : IDisposable
{
    /// <summary>The largest datagram: 65,535 minus the 8-byte UDP header (IPv6's limit; IPv4's is 20 bytes lower).</summary>
    public const int MaxDatagram = 65_527;

    private const int SolIp = 0, SolIpv6 = 41, IpPktinfo = 8, Ipv6Pktinfo = 50;
    private const int MsgTrunc = 0x20, MsgDontwait = 0x40;
    private const int Eagain = 11, Eintr = 4;

    private readonly Socket _socket;
    private readonly bool _native = OperatingSystem.IsLinux() && Environment.Is64BitProcess;
    private readonly bool _wildcard;

    /// <summary>Binds <paramref name="endPoint"/> (dual-stack when it is <see cref="IPAddress.IPv6Any"/>).</summary>
    public DatagramSocket(IPEndPoint endPoint, bool reusePort, TimeSpan receivePoll)
    {
        _socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }

            ListenSocket.SetPortSharing(_socket, reusePort);

            // Room for a burst while the receive loop is busy handing datagrams on (the kernel caps it at net.core.rmem_max).
            _socket.ReceiveBufferSize = 4 << 20;
            _socket.Bind(endPoint);
            _wildcard = endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any);
            _socket.SetSocketOption(
                endPoint.AddressFamily == AddressFamily.InterNetwork ? SocketOptionLevel.IP : SocketOptionLevel.IPv6,
                SocketOptionName.PacketInformation,
                true);

            // The receive loop wakes this often to see whether it should stop: a blocked recvmsg is not woken by a close.
            _socket.ReceiveTimeout = (int)Math.Max(1, receivePoll.TotalMilliseconds);
            LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>The bound address and port (the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Receives one datagram into <paramref name="into"/> (its payload, source and destination address).
    /// False when nothing arrived within the poll interval.
    /// </summary>
    public bool Receive(Datagram into)
    {
        return _native ? ReceiveNative(into) : ReceiveManaged(into);
    }

    /// <summary>Sends <paramref name="datagram"/>'s payload back to its source, from its destination address; false when the kernel refused it.</summary>
    public bool Reply(Datagram datagram, bool wait)
    {
        return _native ? ReplyNative(datagram, wait) : ReplyManaged(datagram);
    }

    public void Dispose() => _socket.Dispose();

    private unsafe bool ReceiveNative(Datagram into)
    {
        byte* control = stackalloc byte[64];
        fixed (byte* data = into.Buffer)
        fixed (byte* name = into.Source)
        {
            var iov = new IoVec { Base = data, Length = (nuint)into.Buffer.Length };
            var header = new MessageHeader
            {
                Name = name,
                NameLength = (uint)into.Source.Length,
                Iov = &iov,
                IovLength = 1,
                Control = control,
                ControlLength = 64,
            };
            nint n;
            do
            {
                n = RecvMsg((int)_socket.Handle, &header, MsgTrunc);
            }
            while (n < 0 && Marshal.GetLastPInvokeError() == Eintr);

            if (n < 0)
            {
                int error = Marshal.GetLastPInvokeError();
                if (error == Eagain)
                {
                    return false;
                }

                throw new SocketException(error);
            }

            into.Length = (int)Math.Min(n, into.Buffer.Length);
            into.SourceLength = (int)header.NameLength;
            into.Truncated = (header.Flags & MsgTrunc) != 0 || n > into.Buffer.Length;
            into.HasDestination = false;
            ReadDestination(into, control, (int)header.ControlLength);
            return true;
        }
    }

    private static unsafe void ReadDestination(Datagram into, byte* control, int length)
    {
        int offset = 0;
        while (offset + 16 <= length)
        {
            var cmsg = (ControlHeader*)(control + offset);
            if (cmsg->Length < 16)
            {
                return;
            }

            byte* payload = control + offset + 16;
            if (cmsg->Level == SolIp && cmsg->Type == IpPktinfo)
            {
                // struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }: addr is where it was sent.
                Array.Clear(into.Destination);
                new ReadOnlySpan<byte>(payload + 8, 4).CopyTo(into.Destination);
                into.DestinationIsV6 = false;
                into.HasDestination = true;
            }
            else if (cmsg->Level == SolIpv6 && cmsg->Type == Ipv6Pktinfo)
            {
                // struct in6_pktinfo { in6_addr addr; int ifindex; } (IPv4-mapped for IPv4 on a dual-stack socket).
                new ReadOnlySpan<byte>(payload, 16).CopyTo(into.Destination);
                into.DestinationIsV6 = true;
                into.HasDestination = true;
            }

            offset += (int)((cmsg->Length + 7) & ~7UL);
        }
    }

    private unsafe bool ReplyNative(Datagram datagram, bool wait)
    {
        byte* control = stackalloc byte[40];
        new Span<byte>(control, 40).Clear();
        int controlLength = 0;
        if (_wildcard && datagram.HasDestination)
        {
            var cmsg = (ControlHeader*)control;
            if (datagram.DestinationIsV6)
            {
                cmsg->Length = 16 + 20;
                cmsg->Level = SolIpv6;
                cmsg->Type = Ipv6Pktinfo;
                datagram.Destination.AsSpan(0, 16).CopyTo(new Span<byte>(control + 16, 16));
                controlLength = 40;
            }
            else
            {
                cmsg->Length = 16 + 12;
                cmsg->Level = SolIp;
                cmsg->Type = IpPktinfo;
                datagram.Destination.AsSpan(0, 4).CopyTo(new Span<byte>(control + 16 + 4, 4)); // spec_dst: the source to use
                controlLength = 32;
            }
        }

        fixed (byte* data = datagram.Buffer)
        fixed (byte* name = datagram.Source)
        {
            var iov = new IoVec { Base = data, Length = (nuint)datagram.Length };
            var header = new MessageHeader
            {
                Name = name,
                NameLength = (uint)datagram.SourceLength,
                Iov = &iov,
                IovLength = 1,
                Control = controlLength == 0 ? null : control,
                ControlLength = (nuint)controlLength,
            };
            nint n;
            do
            {
                n = SendMsg((int)_socket.Handle, &header, wait ? 0 : MsgDontwait);
            }
            while (n < 0 && Marshal.GetLastPInvokeError() == Eintr);

            return n == datagram.Length;
        }
    }

    private bool ReceiveManaged(Datagram into)
    {
        EndPoint remote = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        var flags = SocketFlags.None;
        try
        {
            into.Length = _socket.ReceiveMessageFrom(into.Buffer, ref flags, ref remote, out var info);
            into.Truncated = (flags & SocketFlags.Truncated) != 0;
            into.HasDestination = false;
            into.Remote = (IPEndPoint)remote;
            _ = info;
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut || ex.SocketErrorCode == SocketError.WouldBlock)
        {
            return false;
        }
    }

    private bool ReplyManaged(Datagram datagram)
    {
        try
        {
            return _socket.SendTo(datagram.Buffer.AsSpan(0, datagram.Length), SocketFlags.None, datagram.Remote!) == datagram.Length;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The source address and port of a datagram the native path received (sockaddr_in or sockaddr_in6).</summary>
    public static (UInt128 Address, int Port, bool IsV4) ReadSource(ReadOnlySpan<byte> sockaddr)
    {
        int family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);
        int port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
        if (family == 2)
        {
            // AF_INET: kept as an IPv4-mapped IPv6 address, so that both families share one key space.
            return (((UInt128)0xFFFF << 32) | BinaryPrimitives.ReadUInt32BigEndian(sockaddr[4..]), port, true);
        }

        var address = BinaryPrimitives.ReadUInt128BigEndian(sockaddr[8..]);
        bool mapped = (address >> 32) == 0xFFFF;
        return (address, port, mapped);
    }

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static unsafe partial nint RecvMsg(int socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static unsafe partial nint SendMsg(int socket, MessageHeader* message, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    // struct msghdr on 64-bit Linux.
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MessageHeader
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    // struct cmsghdr on 64-bit Linux: 16 bytes, data aligned to 8.
    [StructLayout(LayoutKind.Sequential)]
    private struct ControlHeader
    {
        public ulong Length;
        public int Level;
        public int Type;
    }
}
