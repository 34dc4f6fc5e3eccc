using System.Collections.Concurrent;

namespace EchoServer.Datagrams;

/// <summary>Reused <see cref="Datagram"/> objects, so that a datagram in flight costs no allocation once the pool is warm.</summary>
internal sealed class DatagramPool(int keep)
{
    private readonly ConcurrentQueue<Datagram> _free = new();
    private int _count;

    /// <summary>A datagram object (its payload not rented yet).</summary>
    public Datagram Rent()
    {
        if (_free.TryDequeue(out var datagram))
        {
            Interlocked.Decrement(ref _count);
            return datagram;
        }

        return new Datagram();
    }

    /// <summary>Returns the payload's buffer and keeps the object for the next datagram (up to the pool's size).</summary>
    public void Return(Datagram datagram)
    {
        datagram.ReturnBuffer();
        if (Interlocked.Increment(ref _count) <= keep)
        {
            _free.Enqueue(datagram);
        }
        else
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
