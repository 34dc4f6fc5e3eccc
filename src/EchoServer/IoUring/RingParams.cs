using System.Runtime.InteropServices;

namespace EchoServer.IoUring;

/// <summary>struct io_uring_params: what io_uring_setup is asked for and what it answers (sizes, features, the rings' field offsets).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RingParams
{
    public uint SqEntries;
    public uint CqEntries;
    public uint Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    public uint Resv0;
    public uint Resv1;
    public uint Resv2;

    // struct io_sqring_offsets
    public uint SqHead;
    public uint SqTail;
    public uint SqRingMask;
    public uint SqRingEntries;
    public uint SqFlags;
    public uint SqDropped;
    public uint SqArray;
    public uint SqResv1;
    public ulong SqUserAddr;

    // struct io_cqring_offsets
    public uint CqHead;
    public uint CqTail;
    public uint CqRingMask;
    public uint CqRingEntries;
    public uint CqOverflow;
    public uint CqCqes;
    public uint CqFlags;
    public uint CqResv1;
    public ulong CqUserAddr;
}
