using System.Net.Sockets;
using EchoServer.TestSupport;

namespace EchoServer.FaultTests;

/// <summary>A huge single write streams through the server's fixed buffers instead of growing its memory.</summary>
public sealed class LargeStreamTests
{
    private const long Gibibyte = 1L << 30;

    [Theory]
    [MemberData(nameof(Pools.Both), MemberType = typeof(Pools))]
    public async Task One_GiB_in_one_stream_comes_back_byte_exact_with_server_RSS_growth_under_64_MiB(string pool)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // RSS is read from /proc
        }

        using var server = ServerProcess.Start("--port", "0", "--pool", pool);
        var endPoint = await server.WaitForListeningAsync();
        using var client = await EchoClient.ConnectAsync(endPoint);
        await client.RoundTripAsync([0]); // the session is up and its code is jitted before the baseline
        long baseline = ProcessLimits.RssBytes(server.Id);
        long peak = baseline;

        // 251 is prime, so every 64 KiB write starts at a different phase and a shifted byte shows.
        var block = new byte[(64 * 1024) + 251];
        for (int i = 0; i < block.Length; i++)
        {
            block[i] = (byte)(i % 251);
        }

        var sender = Task.Run(async () =>
        {
            for (long sent = 0; sent < Gibibyte;)
            {
                int phase = (int)(sent % 251);
                int count = (int)Math.Min(64 * 1024, Gibibyte - sent);
                sent += await client.Socket.SendAsync(block.AsMemory(phase, count), SocketFlags.None);
            }

            client.Socket.Shutdown(SocketShutdown.Send);
        });

        var buffer = new byte[64 * 1024]; // never longer than one window of the block
        long received = 0;
        long mismatchAt = -1;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (true)
        {
            int n = await client.Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            if (n == 0)
            {
                break;
            }

            if (mismatchAt < 0)
            {
                int phase = (int)(received % 251);
                int firstWrong = buffer.AsSpan(0, n).CommonPrefixLength(Expected(block, phase, n));
                if (firstWrong < n)
                {
                    mismatchAt = received + firstWrong;
                }
            }

            received += n;
            if ((received & ((64 << 20) - 1)) < n)
            {
                peak = Math.Max(peak, ProcessLimits.RssBytes(server.Id));
            }
        }

        await sender;
        Assert.Equal(Gibibyte, received);
        Assert.Equal(-1, mismatchAt);
        long growth = peak - baseline;
        Assert.True(growth < 64L << 20, $"server RSS grew by {growth >> 20} MiB while streaming 1 GiB");
    }

    private static ReadOnlySpan<byte> Expected(byte[] block, int phase, int count)
    {
        // The pattern repeats every 251 bytes, so any window of up to 64 KiB is a slice of the block.
        return block.AsSpan(phase, Math.Min(count, block.Length - phase));
    }
}
