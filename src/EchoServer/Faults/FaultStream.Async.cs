using System.Diagnostics;

namespace EchoServer.Faults;

/// <summary>The executor's side: the same faults, every wait a timer that holds no thread.</summary>
internal sealed partial class FaultStream
{
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// A zero-byte read is the executor session's wait for data (no slot, no buffer): the stall and the bandwidth
    /// wait before it, the delay after the data came, so that the read that follows (with a slot) finds it at once.
    /// </summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.IsEmpty ? WaitForDataAsync(cancellationToken) : ReadCoreAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int chunk = _settings.Chunk > 0 ? _settings.Chunk : Math.Max(buffer.Length, 1);
        for (int sent = 0; sent < buffer.Length; sent += chunk)
        {
            if (sent > 0)
            {
                await WaitAsync(EchoDelay()).ConfigureAwait(false);
            }

            await _inner.WriteAsync(buffer.Slice(sent, Math.Min(chunk, buffer.Length - sent)), cancellationToken).ConfigureAwait(false);
            await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        if (Echoed(buffer.Length))
        {
            for (long start = Stopwatch.GetTimestamp(); Draining(start);)
            {
                await Task.Delay(DrainPoll, CancellationToken.None).ConfigureAwait(false);
            }

            Reset();
        }
    }

    private async ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken)
    {
        if (Ended())
        {
            return 0;
        }

        await WaitAsync(BeforeRead()).ConfigureAwait(false);
        await _inner.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        await WaitAsync(EchoDelay()).ConfigureAwait(false);
        _held = true;
        return 0;
    }

    private async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (Ended())
        {
            return 0;
        }

        bool held = _held;
        _held = false;
        if (!held)
        {
            await WaitAsync(BeforeRead()).ConfigureAwait(false);
        }

        int received = await _inner.ReadAsync(buffer[..Limit(buffer.Length)], cancellationToken).ConfigureAwait(false);
        if (received > 0 && !held)
        {
            await WaitAsync(EchoDelay()).ConfigureAwait(false);
        }

        Charge(received);
        return received;
    }

    /// <summary>A timer's wait, cut short by a stop (the loop then sees the stop and ends).</summary>
    private async ValueTask WaitAsync(TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await FaultDelay.AtLeastAsync(wait, _connection.Stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped: the caller goes on and the loop ends.
        }
    }
}
