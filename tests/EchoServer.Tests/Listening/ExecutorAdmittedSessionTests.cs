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
    private const int Chunk = 64 << 10;

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

            var echoes = await Eventually.Completes(
                Task.WhenAll(clients.Select((c, i) => StreamAsync(c, Pattern(i)))),
                "three 2 MiB echoes",
                TimeSpan.FromSeconds(120));

            string refusals = string.Join("\n", server.Logs.Entries.Select(e => e.Message).Where(m => m.Contains("pool-saturated", StringComparison.Ordinal)));
            for (int i = 0; i < clients.Count; i++)
            {
                Assert.True(
                    echoes[i].AsSpan().SequenceEqual(Pattern(i)),
                    $"client {i}: {echoes[i].Length} of {StreamBytes} B came back (or not in order); pool-saturated lines:\n{refusals}");
            }

            Assert.Empty(refusals);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    // Distinct per client, so that a byte of one stream in another's echo shows.
    private static byte[] Pattern(int client) => [.. Enumerable.Range(0, StreamBytes).Select(i => (byte)((i * 7) + client))];

    // Sends the stream while reading the echo, half-closes, and returns everything read until the server's FIN or reset.
    private static async Task<byte[]> StreamAsync(EchoClient client, byte[] payload)
    {
        var reading = ReadUntilClosedAsync(client.Socket);
        try
        {
            for (int sent = 0; sent < payload.Length; sent += Chunk)
            {
                await client.Socket.SendAsync(payload.AsMemory(sent, Math.Min(Chunk, payload.Length - sent)), SocketFlags.None);
            }

            client.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // closed by the server mid-stream: what came back tells
        }

        return await reading;
    }

    private static async Task<byte[]> ReadUntilClosedAsync(Socket socket)
    {
        using var received = new MemoryStream();
        var buffer = new byte[Chunk];
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
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
}
