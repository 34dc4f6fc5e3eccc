namespace EchoServer.IoUring;

/// <summary>The kernel's io_uring numbers this server uses (include/uapi/linux/io_uring.h).</summary>
internal static class RingConstants
{
    public const byte OpNop = 0;
    public const byte OpAsyncCancel = 14;
    public const byte OpRead = 22;
    public const byte OpSend = 26;
    public const byte OpRecv = 27;

    public const byte SqeBufferSelect = 1 << 5;

    public const ushort RecvMultishot = 1 << 1;

    public const uint SetupCqSize = 1 << 3;
    public const uint SetupSubmitAll = 1 << 7;
    public const uint SetupCoopTaskrun = 1 << 8;
    public const uint SetupSingleIssuer = 1 << 12;
    public const uint SetupDeferTaskrun = 1 << 13;

    public const uint FeatSingleMmap = 1 << 0;
    public const uint FeatNoDrop = 1 << 1;

    public const uint EnterGetEvents = 1 << 0;

    public const uint CqeBuffer = 1 << 0;
    public const uint CqeMore = 1 << 1;

    public const uint RegisterPbufRing = 22;
    public const uint UnregisterPbufRing = 23;

    public const long OffSqRing = 0;
    public const long OffCqRing = 0x8000000;
    public const long OffSqes = 0x10000000;
}
