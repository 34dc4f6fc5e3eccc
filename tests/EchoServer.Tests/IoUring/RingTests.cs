using System.Net.Sockets;
using EchoServer.IoUring;
using EchoServer.TestSupport;

namespace EchoServer.Tests.IoUring;

/// <summary>The ring wrapper against the real kernel: requests in, completions out, provided buffers picked and given back.</summary>
public sealed class RingTests
{
    [Fact]
    public void This_kernel_lets_the_engine_set_up_its_rings()
    {
        Assert.Null(RingSupport.Check());
    }

    [Fact]
    public unsafe void A_request_comes_back_as_one_completion_with_its_user_data()
    {
        using var ring = Ring.Create(8, 16);
        for (ulong i = 1; i <= 3; i++)
        {
            Sqe* sqe = ring.NextSqe();
            sqe->Opcode = RingConstants.OpNop;
            sqe->UserData = 40 + i;
        }

        Assert.Equal(3u, ring.Unsubmitted);
        Assert.True(ring.SubmitAndWait(3) >= 0);
        Assert.Equal(0u, ring.Unsubmitted);
        var completions = new Cqe[8];
        Assert.Equal(3, ring.Reap(completions));
        Assert.Equal([41UL, 42, 43], completions.Take(3).Select(c => c.UserData));
        Assert.All(completions.Take(3), c => Assert.Equal(0, c.Result));
        Assert.Equal(0, ring.Reap(completions));
    }

    [Fact]
    public unsafe void A_full_submission_ring_gives_no_request_until_it_is_submitted()
    {
        using var ring = Ring.Create(4, 16);
        for (int i = 0; i < ring.SubmissionEntries; i++)
        {
            Assert.True(ring.NextSqe() is not null);
        }

        Assert.True(ring.NextSqe() is null);
        Assert.Equal((int)ring.SubmissionEntries, ring.Submit());
        Assert.True(ring.NextSqe() is not null);
    }

    [Fact]
    public unsafe void A_multishot_receive_fills_one_provided_buffer_per_message_and_ends_at_the_fin()
    {
        var (client, server) = LoopbackPair.Connect();
        using var _ = client;
        using var __ = server;
        using var ring = Ring.Create(8, 64);
        using var buffers = new BufferRing(ring, 3, 4, 64);
        Assert.Equal(4, buffers.Available);
        ArmReceive(ring, server, buffers.Group, 7);
        Assert.True(ring.Submit() >= 0);

        client.Send("first"u8);
        var first = WaitFor(ring);
        client.Send("second"u8);
        var second = WaitFor(ring);

        Assert.True(first.More && first.HasBuffer && second.More && second.HasBuffer);
        Assert.Equal(7UL, first.UserData);
        Assert.NotEqual(first.BufferId, second.BufferId);
        Assert.Equal("first"u8.ToArray(), new ReadOnlySpan<byte>(buffers.Buffer(first.BufferId), first.Result).ToArray());
        Assert.Equal("second"u8.ToArray(), new ReadOnlySpan<byte>(buffers.Buffer(second.BufferId), second.Result).ToArray());

        client.Shutdown(SocketShutdown.Send);
        var end = WaitFor(ring);
        Assert.Equal(0, end.Result);
        Assert.False(end.More);
        Assert.False(end.HasBuffer);
    }

    [Fact]
    public unsafe void With_every_buffer_taken_the_receive_ends_with_enobufs_and_a_returned_buffer_takes_the_next_message()
    {
        var (client, server) = LoopbackPair.Connect();
        using var _ = client;
        using var __ = server;
        using var ring = Ring.Create(8, 64);
        using var buffers = new BufferRing(ring, 0, 1, 64);
        ArmReceive(ring, server, buffers.Group, 1);
        Assert.True(ring.Submit() >= 0);

        client.Send("a"u8);
        var taken = WaitFor(ring);
        Assert.True(taken.HasBuffer);
        buffers.Taken();
        Assert.Equal(0, buffers.Available);

        client.Send("b"u8);
        var starved = WaitFor(ring);
        Assert.Equal(-Interop.ENOBUFS, starved.Result);
        Assert.False(starved.More);

        buffers.Return(taken.BufferId);
        Assert.Equal(1, buffers.Available);
        ArmReceive(ring, server, buffers.Group, 2);
        Assert.True(ring.Submit() >= 0);
        var next = WaitFor(ring);
        Assert.Equal("b"u8.ToArray(), new ReadOnlySpan<byte>(buffers.Buffer(next.BufferId), next.Result).ToArray());
    }

    [Fact]
    public unsafe void A_send_that_may_not_wait_takes_what_fits_and_says_eagain_when_nothing_does()
    {
        var (client, server) = LoopbackPair.Connect();
        using var _ = client;
        using var __ = server;
        server.SendBufferSize = 4096;
        client.ReceiveBufferSize = 4096;
        using var ring = Ring.Create(8, 64);
        var payload = new byte[1 << 20];
        int total = 0;
        fixed (byte* data = payload)
        {
            for (int i = 0; i < 64; i++)
            {
                Sqe* sqe = ring.NextSqe();
                sqe->Opcode = RingConstants.OpSend;
                sqe->Fd = (int)server.SafeHandle.DangerousGetHandle();
                sqe->Address = (ulong)data;
                sqe->Length = (uint)payload.Length;
                sqe->OpFlags = Interop.MsgDontWait | Interop.MsgNoSignal;
                var sent = WaitFor(ring);
                if (sent.Result == -Interop.EAGAIN)
                {
                    Assert.True(total > 0 && total < 64 * payload.Length, $"{total} bytes went before the first EAGAIN");
                    return;
                }

                Assert.True(sent.Result > 0, $"send answered {sent.Result}");
                total += sent.Result;
            }
        }

        Assert.Fail("a client that does not read took 64 MiB");
    }

    [Fact]
    public void A_buffer_ring_provides_a_few_buffers_first_and_twice_as_many_once_three_quarters_are_taken_up_to_its_count()
    {
        using var ring = Ring.Create(4, 8);
        using var buffers = new BufferRing(ring, 0, 32, 64, initial: 8);
        Assert.Equal((8, 8), (buffers.Provided, buffers.Available));

        for (int i = 0; i < 5; i++)
        {
            buffers.Taken();
        }

        Assert.Equal((8, 3), (buffers.Provided, buffers.Available)); // 5 of 8 taken: not yet
        buffers.Taken();
        Assert.Equal((16, 10), (buffers.Provided, buffers.Available)); // 6 of 8: twice as many

        Assert.True(buffers.TryGrow());
        Assert.Equal((32, 26), (buffers.Provided, buffers.Available));
        Assert.False(buffers.TryGrow()); // never past the ring's count
        for (int i = 0; i < 26; i++)
        {
            buffers.Taken();
        }

        Assert.Equal((32, 0), (buffers.Provided, buffers.Available));
    }

    [Fact]
    public void A_buffer_ring_takes_a_power_of_two_buffers_and_the_engine_fits_them_to_the_buffer_size()
    {
        using var ring = Ring.Create(4, 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BufferRing(ring, 0, 3, 64));
        Assert.Equal(2048, RingEngine.BuffersPerRing(16 * 1024));
        Assert.Equal(2048, RingEngine.BuffersPerRing(1));
        Assert.Equal(32, RingEngine.BuffersPerRing(1024 * 1024));
        Assert.Equal(16, RingEngine.BuffersPerRing(64 * 1024 * 1024));
        Assert.Equal(1024, RingEngine.BuffersPerRing(20 * 1024)); // 1,638 fit: the power of two below
    }

    [Theory]
    [InlineData(1, (byte)2)]
    [InlineData(int.MaxValue, (byte)4)]
    public void User_data_carries_the_socket_and_the_request(int index, byte op)
    {
        Assert.Equal((index, (RingOp)op), RingSocket.Decode(RingSocket.Encode(index, (RingOp)op)));
    }

    private static unsafe void ArmReceive(Ring ring, Socket socket, ushort group, ulong userData)
    {
        Sqe* sqe = ring.NextSqe();
        sqe->Opcode = RingConstants.OpRecv;
        sqe->Flags = RingConstants.SqeBufferSelect;
        sqe->IoPriority = RingConstants.RecvMultishot;
        sqe->Fd = (int)socket.SafeHandle.DangerousGetHandle();
        sqe->BufferGroup = group;
        sqe->UserData = userData;
    }

    private static Cqe WaitFor(Ring ring)
    {
        var one = new Cqe[1];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ring.Reap(one) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no completion within 10 s");
            int entered = ring.SubmitAndWait(1);
            Assert.True(entered >= 0 || entered == -Interop.EINTR, $"io_uring_enter answered {entered}");
        }

        return one[0];
    }
}
