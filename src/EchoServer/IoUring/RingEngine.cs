using System.Net.Sockets;
using EchoServer.Echo;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.IoUring;

/// <summary>
/// The io_uring engine: a few rings, each on a thread of its own, that run the executor's sessions (each session
/// stays on one ring, picked by its connection's id). Accepting stays with the listener; only the sessions' reads
/// and sends go through the rings.
/// </summary>
internal sealed class RingEngine : IDisposable
{
    /// <summary>Provided buffers per ring are bounded by this much memory (virtual: a page is resident once written).</summary>
    private const long BufferMemoryPerRing = 32L * 1024 * 1024;

    private readonly RingLoop[] _loops;

    private RingEngine(RingLoop[] loops) => _loops = loops;

    /// <summary>Starts the rings; throws <see cref="RingException"/> when the kernel refuses one.</summary>
    /// <param name="bufferSize">Bytes per provided buffer (--buffer-size).</param>
    /// <param name="logger">Where the rings' faults are logged.</param>
    public static RingEngine Start(int bufferSize, ILogger logger)
    {
        int rings = Math.Max(1, Environment.ProcessorCount / 2);
        int buffers = BuffersPerRing(bufferSize);
        var loops = new List<RingLoop>();
        try
        {
            for (int i = 0; i < rings; i++)
            {
                loops.Add(new RingLoop($"echo-ring-{i}", buffers, bufferSize, logger));
            }
        }
        catch (RingException)
        {
            foreach (var loop in loops)
            {
                loop.Dispose();
            }

            throw;
        }

        RingLog.Started(logger, rings, buffers, bufferSize);
        return new RingEngine([.. loops]);
    }

    /// <summary>Provided buffers per ring: a power of two between 16 and 2,048 within <see cref="BufferMemoryPerRing"/>.</summary>
    public static int BuffersPerRing(int bufferSize)
    {
        long fit = Math.Clamp(BufferMemoryPerRing / bufferSize, 16, 2048);
        return 1 << (63 - (int)long.LeadingZeroCount(fit));
    }

    /// <summary>Runs one executor session on its ring; see <see cref="RingEchoLoop.RunAsync"/>.</summary>
    public ValueTask<CloseReason> RunAsync(long id, Socket socket, EchoProgress progress, ISlotGate gate, CancellationToken stopping, byte[]? first) =>
        RingEchoLoop.RunAsync(_loops[(int)(id % _loops.Length)], socket, progress, gate, stopping, first);

    /// <summary>Stops the rings once their sessions have ended (a second at most each: a session still hanging keeps its ring).</summary>
    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop.Dispose();
        }
    }
}
