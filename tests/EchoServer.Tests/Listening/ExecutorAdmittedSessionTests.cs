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

            // A fourth session holds the slot through a long burst while the three stream: all three must wait,
            // two of them past the queue's capacity, and then every byte must come back.
            using var holder = SlotHolder.Install(server);
            using var held = await holder.ConnectHeldAsync(server);
            var streams = clients.Select((c, i) => new Sender(c.Socket, Pattern(i))).ToList();
            var echoes = streams.Select(s => s.ReadUntilClosedAsync()).ToList();
            await Eventually.True(() => server.Service.Pool.Load.Queued == 3 || PoolSaturated(server).Any(), "the three streams to wait for the slot", TimeSpan.FromSeconds(30));
            holder.Dispose();

            var echoed = await Eventually.Completes(Task.WhenAll(echoes), "the three echoes", TimeSpan.FromSeconds(120));
            string refusals = string.Join("\n", PoolSaturated(server));
            for (int i = 0; i < clients.Count; i++)
            {
                Assert.True(echoed[i].AsSpan().SequenceEqual(Pattern(i)), $"client {i}: {echoed[i].Length} of {StreamBytes} B came back (or not in order); pool-saturated lines:\n{refusals}");
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
    private static byte[] Pattern(int client) => [.. Enumerable.Range(0, StreamBytes).Select(i => (byte)((i * 7) + client))];

    /// <summary>Sends a stream in the background, then half-closes; reads its echo when asked, until the server's FIN or reset.</summary>
    private sealed class Sender
    {
        private readonly Socket _socket;

        public Sender(Socket socket, byte[] payload)
        {
            _socket = socket;
            _ = SendAsync(payload);
        }

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
