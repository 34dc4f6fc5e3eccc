using System.Diagnostics;
using System.Net.Sockets;
using EchoServer.Pools;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Listening;

/// <summary>
/// A session the executor has served is no newcomer: under <c>--when-full reject</c> its later bursts wait
/// for a slot (it is not read meanwhile) instead of being closed with <c>pool-saturated</c>.
/// </summary>
public sealed class ExecutorAdmittedSessionTests
{
    private const int StreamBytes = 2 << 20;
    private const int SlowStreamBytes = 16 << 20;
    private const int Chunk = 16 << 10;

    [Fact]
    public async Task Three_admitted_streams_on_one_slot_and_a_queue_of_one_under_reject_come_back_whole()
    {
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { PoolSettings = TestServer.Pool(1, 1, WhenFull.Reject) });
        var clients = new List<EchoClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                clients.Add(await EchoClient.ConnectAsync(server.EndPoint));
                Assert.Equal([(byte)i], await clients[i].RoundTripAsync([(byte)i])); // served once, one at a time: admitted
            }

            // Client 0 streams but reads only later (16 MiB: more than the socket buffers hold), so that its echo
            // stalls in a send with the slot, the worst case for the others; the two others stream meanwhile and
            // must both wait, one past the queue's capacity.
            var slow = new Sender(clients[0].Socket, Pattern(0, SlowStreamBytes));
            await Eventually.True(() => SlotHog.AreBlocked(server) || slow.Stalled, "client 0's echo to stall", TimeSpan.FromSeconds(30));

            var fast = clients.Skip(1).Select((c, i) => new Sender(c.Socket, Pattern(i + 1, StreamBytes))).ToList();
            var fastEchoes = fast.Select(s => s.ReadUntilClosedAsync()).ToList();
            await Eventually.True(
                () => server.Service.Pool.Load.Queued == 2 || fast.All(s => s.Received > 0) || PoolSaturated(server).Any(),
                "both other streams to wait for the slot (or be echoed)",
                TimeSpan.FromSeconds(30));

            var echoes = await Eventually.Completes(Task.WhenAll([slow.ReadUntilClosedAsync(), .. fastEchoes]), "the three echoes", TimeSpan.FromSeconds(120));
            string refusals = string.Join("\n", PoolSaturated(server));
            Assert.True(echoes[0].AsSpan().SequenceEqual(Pattern(0, SlowStreamBytes)), $"client 0: {echoes[0].Length} of {SlowStreamBytes} B came back (or not in order); pool-saturated lines:\n{refusals}");
            for (int i = 1; i < 3; i++)
            {
                Assert.True(echoes[i].AsSpan().SequenceEqual(Pattern(i, StreamBytes)), $"client {i}: {echoes[i].Length} of {StreamBytes} B came back (or not in order); pool-saturated lines:\n{refusals}");
            }

            Assert.Empty(refusals);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static IEnumerable<string> PoolSaturated(TestServer server) =>
        server.Logs.Entries.Select(e => e.Message).Where(m => m.Contains("pool-saturated", StringComparison.Ordinal));

    // Distinct per client, so that a byte of one stream in another's echo shows.
    private static byte[] Pattern(int client, int length) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 7) + client))];

    /// <summary>Sends a stream in the background, then half-closes; reads its echo when asked, until the server's FIN or reset.</summary>
    private sealed class Sender
    {
        private readonly Socket _socket;
        private long _lastProgress = Stopwatch.GetTimestamp();
        private long _sent;
        private long _received;

        public Sender(Socket socket, byte[] payload)
        {
            _socket = socket;
            _ = SendAsync(payload);
        }

        /// <summary>Sent something, then nothing for a while: the server stopped reading it.</summary>
        public bool Stalled => Interlocked.Read(ref _sent) > 0 && Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastProgress)) > TimeSpan.FromMilliseconds(300);

        public long Received => Interlocked.Read(ref _received);

        public async Task<byte[]> ReadUntilClosedAsync()
        {
            using var received = new MemoryStream();
            var buffer = new byte[64 << 10];
            try
            {
                int n;
                while ((n = await _socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    received.Write(buffer, 0, n);
                    Interlocked.Add(ref _received, n);
                }
            }
            catch (SocketException)
            {
                // reset by the server: what came back tells
            }

            return received.ToArray();
        }

        private async Task SendAsync(byte[] payload)
        {
            try
            {
                for (int sent = 0; sent < payload.Length; sent += Chunk)
                {
                    await _socket.SendAsync(payload.AsMemory(sent, Math.Min(Chunk, payload.Length - sent)), SocketFlags.None);
                    Interlocked.Add(ref _sent, Chunk);
                    Interlocked.Exchange(ref _lastProgress, Stopwatch.GetTimestamp());
                }

                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // closed by the server mid-stream: what came back tells
            }
            catch (ObjectDisposedException)
            {
                // the test ended
            }
        }
    }
}
