using System.Buffers;
using System.Diagnostics;
using System.Net;

namespace EchoServer.Datagrams;

/// <summary>
/// One datagram on its way back: its payload (in a buffer rented for it), where it came from and where it
/// was sent. Instances are reused: the receive loop takes one from <see cref="DatagramPool"/> per datagram
/// and the pool's worker returns it after the reply.
/// </summary>
internal sealed class Datagram : IThreadPoolWorkItem
{
    /// <summary>A datagram to receive into: the largest payload, plus one byte so that a longer one shows as truncated.</summary>
    public static Datagram ForReceiving() => new() { Buffer = new byte[DatagramSocket.MaxDatagram + 1] };

    /// <summary>The payload, in <c>Buffer[..Length]</c>.</summary>
    public byte[] Buffer { get; private set; } = [];

    /// <summary>Payload bytes.</summary>
    public int Length { get; set; }

    /// <summary>The source's sockaddr, as the kernel wrote it (native path).</summary>
    public byte[] Source { get; } = new byte[28];

    /// <summary>Bytes of <see cref="Source"/> in use.</summary>
    public int SourceLength { get; set; }

    /// <summary>The source (the runtime's path only).</summary>
    public IPEndPoint? Remote { get; set; }

    /// <summary>The address the datagram was sent to (4 bytes for IPv4, 16 for IPv6), when the kernel said.</summary>
    public byte[] Destination { get; } = new byte[16];

    /// <summary>True when <see cref="Destination"/> holds the address the datagram was sent to.</summary>
    public bool HasDestination { get; set; }

    /// <summary>True when <see cref="Destination"/> is an IPv6 (or IPv4-mapped) address.</summary>
    public bool DestinationIsV6 { get; set; }

    /// <summary>True when the datagram was longer than the buffer: it is counted, never echoed.</summary>
    public bool Truncated { get; set; }

    /// <summary>When it was received (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long ReceivedAt { get; set; }

    /// <summary>Replies to send: 1, or 2 for a datagram a fault duplicates.</summary>
    public int Copies { get; set; } = 1;

    /// <summary>How long a fault holds its reply back; zero for none.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>What the thread pool runs for it (the executor's reply).</summary>
    public Action<Datagram>? Work { get; set; }

    /// <summary>Runs <see cref="Work"/> (as a thread-pool work item).</summary>
    public void Execute() => Work!(this);

    /// <summary>Takes <paramref name="received"/>'s payload (into a rented buffer of its size) and addresses.</summary>
    public void CopyFrom(Datagram received)
    {
        Buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, received.Length));
        received.Buffer.AsSpan(0, received.Length).CopyTo(Buffer);
        Length = received.Length;
        received.Source.AsSpan(0, received.SourceLength).CopyTo(Source);
        SourceLength = received.SourceLength;
        Remote = received.Remote;
        received.Destination.CopyTo(Destination, 0);
        HasDestination = received.HasDestination;
        DestinationIsV6 = received.DestinationIsV6;
        Truncated = false;
        ReceivedAt = received.ReceivedAt;
        Copies = 1;
        Delay = TimeSpan.Zero;
    }

    /// <summary>Gives the payload's buffer back.</summary>
    public void ReturnBuffer()
    {
        if (Buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }

        Remote = null;
    }
}
