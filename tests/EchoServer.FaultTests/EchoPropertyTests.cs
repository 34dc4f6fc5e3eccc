using System.Net.Sockets;
using EchoServer.Pools;
using EchoServer.TestSupport;
using FsCheck.Xunit;

namespace EchoServer.FaultTests;

/// <summary>
/// Property: whatever sequence of writes a client makes, and however the network splits it, the echo is the
/// exact concatenation. FsCheck prints the seed of a failing case; <c>[Property(Replay = "…")]</c> replays it.
/// </summary>
public sealed class EchoPropertyTests : IAsyncLifetime
{
    private TestServer? _workers;
    private TestServer? _executor;

    public async Task InitializeAsync()
    {
        _workers = await TestServer.StartAsync(PoolKind.Workers, o => o with { LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning });
        _executor = await TestServer.StartAsync(PoolKind.Executor, o => o with { LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning });
    }

    public async Task DisposeAsync()
    {
        await _workers!.DisposeAsync();
        await _executor!.DisposeAsync();
    }

    [Property(MaxTest = 100)]
    public bool Any_sequence_of_writes_comes_back_byte_exact(byte[][] writes, bool executor, bool halfClose)
    {
        // Properties are synchronous; blocking here is on the test thread, not on the server's threads.
        return EchoesExactlyAsync(executor ? _executor! : _workers!, writes, halfClose).GetAwaiter().GetResult();
    }

    private static async Task<bool> EchoesExactlyAsync(TestServer server, byte[][] writes, bool halfClose)
    {
        var expected = writes.Where(w => w is not null).SelectMany(w => w).ToArray();
        using var client = await EchoClient.ConnectAsync(server.EndPoint);
        var sending = Task.Run(async () =>
        {
            foreach (var write in writes.Where(w => w is { Length: > 0 }))
            {
                await client.Socket.SendAsync(write, SocketFlags.None);
            }

            if (halfClose)
            {
                client.Socket.Shutdown(SocketShutdown.Send);
            }
        });
        byte[] echoed = halfClose ? await client.ReadToEndAsync() : await client.ReadExactlyAsync(expected.Length);
        await sending;
        return echoed.AsSpan().SequenceEqual(expected);
    }
}
