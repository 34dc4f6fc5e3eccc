using System.Net;
using System.Net.Sockets;
using EchoServer.IoUring;
using EchoServer.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoServer.Tests.IoUring;

/// <summary>A ring's thread and its sockets: idle sockets hold no buffer, a socket that falls behind stops being read, nothing is lost.</summary>
public sealed class RingLoopTests
{
    [Fact]
    public async Task Idle_sockets_waiting_for_data_hold_no_buffer_and_a_message_holds_one_until_it_is_given_back()
    {
        using var loop = new RingLoop("test-ring", 64, 256, NullLogger.Instance);
        var pairs = Enumerable.Range(0, 20).Select(_ => LoopbackPair.Connect()).ToList();
        try
        {
            var sockets = await OnLoop(loop, () => pairs.Select(p => RingSocket.Open(loop, p.Server)).ToList());
            var waits = await OnLoop(loop, () => sockets.Select(s => OffLoop(s.WaitForDataAsync().AsTask())).ToList());
            Assert.True(await OnLoop(loop, () => sockets.All(s => s.Receiving)), "every idle socket has its receive armed");
            Assert.Equal(64, await OnLoop(loop, () => loop.Buffers.Available));

            pairs[3].Client.Send("ping"u8);
            await Eventually.Completes(waits[3], "the socket that got data to wake");
            Assert.All(waits.Where((_, i) => i != 3), w => Assert.False(w.IsCompleted));
            var (held, bytes) = await OnLoop(loop, () =>
            {
                Assert.True(sockets[3].TryTake(out ushort id, out int length));
                byte[] copy = Copy(sockets[3].BufferAddress(id), length);
                int during = loop.Buffers.Available;
                sockets[3].Return(id);
                return (during, copy);
            });
            Assert.Equal(63, held);
            Assert.Equal("ping"u8.ToArray(), bytes);
            Assert.Equal(64, await OnLoop(loop, () => loop.Buffers.Available));

            await Eventually.Completes(await OnLoop(loop, () => Task.WhenAll(sockets.Select(s => OffLoop(s.CloseAsync().AsTask())))), "every socket to close on the ring");
            Assert.Equal(64, await OnLoop(loop, () => loop.Buffers.Available));
        }
        finally
        {
            pairs.ForEach(p => { p.Client.Dispose(); p.Server.Dispose(); });
        }
    }

    [Fact]
    public async Task A_socket_that_holds_its_share_of_buffers_is_not_read_until_it_asks_again_and_loses_nothing()
    {
        using var loop = new RingLoop("test-ring", 2048, 64, NullLogger.Instance);
        var (client, server) = LoopbackPair.Connect();
        using var _ = client;
        using var __ = server;
        var socket = await OnLoop(loop, () => RingSocket.Open(loop, server));
        var first = await OnLoop(loop, () => OffLoop(socket.WaitForDataAsync().AsTask()));
        var sent = new byte[64 * 1024];
        new Random(7).NextBytes(sent);
        var sending = client.SendAsync(sent); // 1,024 buffers' worth: far past what one socket may hold (and may wait for it to read)
        await Eventually.Completes(first, "the first data");
        await Eventually.True(() => OnLoop(loop, () => !socket.Receiving && socket.Held >= RingSocket.MaxHeld).Result, "the receive to be cancelled once the socket holds its share");
        int held = await OnLoop(loop, () => socket.Held);
        Assert.True(held < 1024, $"the socket holds {held} buffers of 64 bytes: it kept reading");

        var received = new List<byte>();
        while (received.Count < sent.Length)
        {
            await Eventually.Completes(await OnLoop(loop, () => OffLoop(socket.WaitForDataAsync().AsTask())), $"more data after {received.Count} bytes");
            received.AddRange(await OnLoop(loop, () =>
            {
                var bytes = new List<byte>();
                while (socket.TryTake(out ushort id, out int length))
                {
                    bytes.AddRange(Copy(socket.BufferAddress(id), length));
                    socket.Return(id);
                }

                return bytes;
            }));
        }

        Assert.Equal(sent.Length, await sending);
        Assert.Equal(sent, received.ToArray());
        await Eventually.Completes(await OnLoop(loop, () => OffLoop(socket.CloseAsync().AsTask())), "the socket to close on the ring");
        Assert.Equal(await OnLoop(loop, () => loop.Buffers.Provided), await OnLoop(loop, () => loop.Buffers.Available));
    }

    [Fact]
    public async Task A_ring_starts_with_a_few_buffers_and_provides_more_as_messages_in_hand_need_them()
    {
        using var loop = new RingLoop("test-ring", 2048, 256, NullLogger.Instance);
        Assert.Equal(64, await OnLoop(loop, () => loop.Buffers.Provided));
        var pairs = Enumerable.Range(0, 150).Select(_ => LoopbackPair.Connect()).ToList();
        try
        {
            var sockets = await OnLoop(loop, () => pairs.Select(p => RingSocket.Open(loop, p.Server)).ToList());
            var waits = await OnLoop(loop, () => sockets.Select(s => OffLoop(s.WaitForDataAsync().AsTask())).ToList());
            for (int i = 0; i < pairs.Count; i++)
            {
                pairs[i].Client.Send(BitConverter.GetBytes(i));
            }

            // Every socket holds its message at once: 150 buffers taken, from a ring that started with 64.
            await Eventually.Completes(Task.WhenAll(waits), "every socket to get its message");
            var messages = await OnLoop(loop, () => sockets.Select((s, i) =>
            {
                Assert.True(s.TryTake(out ushort id, out int length));
                return (id, BitConverter.ToInt32(Copy(s.BufferAddress(id), length)));
            }).ToList());
            Assert.Equal(Enumerable.Range(0, pairs.Count), messages.Select(m => m.Item2));
            Assert.Equal(pairs.Count, messages.Select(m => m.id).Distinct().Count());
            int provided = await OnLoop(loop, () => loop.Buffers.Provided);
            Assert.InRange(provided, 256, 512);

            await OnLoop(loop, () =>
            {
                for (int i = 0; i < sockets.Count; i++)
                {
                    sockets[i].Return(messages[i].id);
                }

                return true;
            });
            await Eventually.Completes(await OnLoop(loop, () => Task.WhenAll(sockets.Select(s => OffLoop(s.CloseAsync().AsTask())))), "every socket to close on the ring");
            Assert.Equal((provided, provided), await OnLoop(loop, () => (loop.Buffers.Provided, loop.Buffers.Available)));
        }
        finally
        {
            pairs.ForEach(p => { p.Client.Dispose(); p.Server.Dispose(); });
        }
    }

    [Fact]
    public async Task A_socket_that_found_no_free_buffer_is_read_once_one_comes_back()
    {
        using var loop = new RingLoop("test-ring", 1, 64, NullLogger.Instance);
        var pairs = Enumerable.Range(0, 2).Select(_ => LoopbackPair.Connect()).ToList();
        try
        {
            var sockets = await OnLoop(loop, () => pairs.Select(p => RingSocket.Open(loop, p.Server)).ToList());
            var waits = await OnLoop(loop, () => sockets.Select(s => OffLoop(s.WaitForDataAsync().AsTask())).ToList());
            pairs[0].Client.Send("one"u8);
            await Eventually.Completes(waits[0], "the first socket to take the only buffer");
            pairs[1].Client.Send("two"u8);
            await Eventually.True(() => OnLoop(loop, () => !sockets[1].Receiving).Result, "the second socket's receive to end without a buffer");
            Assert.False(waits[1].IsCompleted);

            await OnLoop(loop, () =>
            {
                Assert.True(sockets[0].TryTake(out ushort id, out _));
                sockets[0].Return(id);
                return true;
            });
            await Eventually.Completes(waits[1], "the starved socket to be read once the buffer came back");
            var bytes = await OnLoop(loop, () =>
            {
                Assert.True(sockets[1].TryTake(out ushort id, out int length));
                byte[] copy = Copy(sockets[1].BufferAddress(id), length);
                sockets[1].Return(id);
                return copy;
            });
            Assert.Equal("two"u8.ToArray(), bytes);
            await Eventually.Completes(await OnLoop(loop, () => Task.WhenAll(sockets.Select(s => OffLoop(s.CloseAsync().AsTask())))), "every socket to close on the ring");
        }
        finally
        {
            pairs.ForEach(p => { p.Client.Dispose(); p.Server.Dispose(); });
        }
    }

    [Fact]
    public async Task A_wake_after_the_ring_stopped_writes_into_no_descriptor_that_took_the_eventfds_number()
    {
        var loop = new RingLoop("wake-test-ring", 16, 64, NullLogger.Instance);
        await OnLoop(loop, () => true);

        // Asleep in io_uring_enter, the ring's thread takes the stop's wake-up before it ends, as a stop usually finds it.
        await Eventually.True(() => Sleeping("wake-test-ring"), "the ring's thread to wait for completions");
        loop.Dispose(); // the thread ends and closes the ring and its eventfd

        // Connected sockets enough to take every low descriptor number free now, the eventfd's among them.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(128);
        var clients = Enumerable.Range(0, 64).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToList();
        var peers = new List<Socket>();
        try
        {
            foreach (var client in clients)
            {
                client.Connect(listener.LocalEndPoint!);
                peers.Add(listener.Accept());
            }

            loop.Post(_ => { }, null); // a late wake, as the last session's end racing the ring's exit gives

            // A write to a connected loopback socket is in its peer's queue when it returns.
            Assert.All(peers, peer => Assert.Equal(0, peer.Available));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            peers.ForEach(p => p.Dispose());
        }
    }

    private static Task<T> OnLoop<T>(RingLoop loop, Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(
            _ =>
            {
                try
                {
                    done.SetResult(work());
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            },
            null);
        return done.Task;
    }

    /// <summary>The ring completes its tasks inline: the test must go on elsewhere, or it would block the ring's thread.</summary>
    private static Task OffLoop(Task onLoop) => onLoop.ContinueWith(static t => t, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();

    /// <summary>True when the thread named <paramref name="name"/> sleeps (state S in /proc).</summary>
    private static bool Sleeping(string name) => Directory.GetDirectories("/proc/self/task").Any(task =>
    {
        try
        {
            string stat = File.ReadAllText(Path.Combine(task, "stat"));
            return File.ReadAllText(Path.Combine(task, "comm")).Trim() == name && stat[stat.LastIndexOf(')') + 2] == 'S';
        }
        catch (IOException)
        {
            return false; // the thread ended meanwhile
        }
    });

    private static unsafe byte[] Copy(nint data, int length) => new ReadOnlySpan<byte>((void*)data, length).ToArray();
}
