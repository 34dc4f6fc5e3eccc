using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoServer.Pools;

/// <summary>
/// The bounded queue both pools share: a <see cref="BlockingCollection{T}"/> holds the entries, and a
/// semaphore of slots bounds them. Keeping the bound in the semaphore (not in the collection) lets an entry
/// that times out or is dropped give its slot back at once, while its husk stays in the collection until a
/// taker skips it; and it lets the owner decide when a taken entry frees its slot: the executor frees it
/// on taking, the worker pool only when the run ends, so that its bound is "running plus queued" and a
/// client is never refused merely because idle workers have not woken up yet.
/// </summary>
internal sealed class PendingQueue<T> : IDisposable
    where T : class
{
    private readonly BlockingCollection<PendingWork<T>> _entries = new(new ConcurrentQueue<PendingWork<T>>());
    private readonly SemaphoreSlim _slots;
    private readonly Action<T, PoolOutcome> _refuse;
    private readonly ILogger _logger;
    private readonly string _poolName;
    private readonly WhenFull _whenFull;
    private readonly TimeSpan _queueTimeout;
    private readonly Timer? _sweeper;
    private volatile bool _completed;
    private int _completing;
    private int _disposed;

    /// <param name="settings">Capacity, overload policy and queue timeout.</param>
    /// <param name="slotsHeldWhileRunning">Slots beyond the queue capacity, for taken entries that keep theirs until <see cref="FreeSlot"/>.</param>
    /// <param name="refuse">Called once for every item that will not be served, with the reason.</param>
    /// <param name="logger">Where a failing refuse callback is logged.</param>
    /// <param name="poolName">The owning pool's name, for logs.</param>
    public PendingQueue(PoolSettings settings, int slotsHeldWhileRunning, Action<T, PoolOutcome> refuse, ILogger logger, string poolName)
    {
        Capacity = settings.QueueCapacity + slotsHeldWhileRunning;
        _slots = new SemaphoreSlim(Capacity, Capacity);
        _refuse = refuse;
        _logger = logger;
        _poolName = poolName;
        _whenFull = settings.WhenFull;
        _queueTimeout = settings.QueueTimeout;
        var queueTimeout = _queueTimeout;
        if (queueTimeout > TimeSpan.Zero)
        {
            // A sweep a few times per timeout keeps the overshoot small without a timer per entry.
            var period = TimeSpan.FromTicks(Math.Clamp(queueTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 5, TimeSpan.TicksPerSecond));
            _sweeper = new Timer(static s => ((PendingQueue<T>)s!).RefuseExpired(), this, period, period);
        }
    }

    /// <summary>Slots in all: queue capacity plus those that taken entries keep while they run.</summary>
    public int Capacity { get; }

    /// <summary>Slots held now: live entries waiting, plus taken ones whose slot is not freed yet.</summary>
    public int Held => Capacity - _slots.CurrentCount;

    public bool IsCompleted => _completed;

    /// <summary>
    /// Queues <paramref name="work"/> under the overload policy, or refuses it (queue full under
    /// <see cref="WhenFull.Reject"/>, queue completed, or a <see cref="WhenFull.Wait"/> cancelled).
    /// </summary>
    public async ValueTask EnqueueOrRefuseAsync(PendingWork<T> work, CancellationToken cancellationToken)
    {
        bool queued;
        try
        {
            queued = await EnqueueAsync(work, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            queued = false;
        }

        if (!queued)
        {
            Refuse(work, _completed || cancellationToken.IsCancellationRequested ? PoolOutcome.Shutdown : PoolOutcome.PoolSaturated);
        }
    }

    /// <summary>Hands <paramref name="work"/> to the refuse callback and completes it with <paramref name="outcome"/>.</summary>
    public void Refuse(PendingWork<T> work, PoolOutcome outcome)
    {
        try
        {
            _refuse(work.Item, outcome);
        }
#pragma warning disable CA1031 // Refusal runs on the accept path and on the sweeper timer: it must not throw there.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            PoolLog.RefuseFaulted(_logger, ex, outcome, _poolName);
        }

        work.SetOutcome(outcome);
    }

    private ValueTask<bool> EnqueueAsync(PendingWork<T> work, CancellationToken cancellationToken)
    {
        if (_completed)
        {
            return ValueTask.FromResult(false);
        }

        if (_slots.Wait(0))
        {
            return ValueTask.FromResult(Add(work));
        }

        return _whenFull switch
        {
            WhenFull.Wait => WaitThenAddAsync(work, cancellationToken),
            WhenFull.DropOldest => ValueTask.FromResult(DropOldestThenAdd(work)),
            _ => ValueTask.FromResult(false),
        };
    }

    /// <summary>Gives back the slot of an entry taken with <see cref="TryTake"/> or <see cref="Take"/>.</summary>
    public void FreeSlot() => _slots.Release();

    /// <summary>Takes the oldest live entry without waiting; its slot stays held until <see cref="FreeSlot"/>.</summary>
    public bool TryTake(out PendingWork<T> work)
    {
        while (_entries.TryTake(out var entry))
        {
            if (entry.TryClaim())
            {
                work = entry;
                return true;
            }
        }

        work = null!;
        return false;
    }

    /// <summary>Blocks until a live entry is there (its slot stays held until <see cref="FreeSlot"/>); false once completed and empty.</summary>
    public bool Take(out PendingWork<T> work)
    {
        while (_entries.TryTake(out var entry, Timeout.Infinite))
        {
            if (entry.TryClaim())
            {
                work = entry;
                return true;
            }
        }

        work = null!;
        return false;
    }

    /// <summary>Live entries in queue order (oldest first), for snapshots.</summary>
    public IEnumerable<PendingWork<T>> Snapshot() => _entries.ToArray().Where(static e => !e.IsClaimed);

    /// <summary>Admits nothing more, refuses every entry still queued, and wakes blocked takers.</summary>
    public void Complete()
    {
        if (Interlocked.Exchange(ref _completing, 1) != 0)
        {
            return;
        }

        _completed = true;
        _sweeper?.Dispose();
        _entries.CompleteAdding();
        while (_entries.TryTake(out var entry))
        {
            if (entry.TryClaim())
            {
                _slots.Release();
                Refuse(entry, PoolOutcome.Shutdown);
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Complete();
        _sweeper?.Dispose();
        _entries.Dispose();
        _slots.Dispose();
    }

    private async ValueTask<bool> WaitThenAddAsync(PendingWork<T> work, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        return Add(work);
    }

    private bool DropOldestThenAdd(PendingWork<T> work)
    {
        var spinner = new SpinWait();
        while (true)
        {
            // The dropped entry's slot passes straight to the new one, so no other submitter can take it between.
            while (_entries.TryTake(out var oldest))
            {
                if (oldest.TryClaim())
                {
                    Refuse(oldest, PoolOutcome.DroppedOldest);
                    return Add(work);
                }
            }

            // Every slot is held by an entry another thread is still adding: wait for it to land, or for a slot.
            if (_completed)
            {
                return false;
            }

            if (_slots.Wait(0))
            {
                return Add(work);
            }

            spinner.SpinOnce();
        }
    }

    private bool Add(PendingWork<T> work)
    {
        try
        {
            work.MarkEnqueued();
            _entries.Add(work);
            return true;
        }
        catch (InvalidOperationException) when (_entries.IsAddingCompleted)
        {
            _slots.Release();
            return false;
        }
    }

    private void RefuseExpired()
    {
        if (Held == 0 || _completed)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        foreach (var entry in _entries.ToArray())
        {
            if (entry.WaitedFor(now) < _queueTimeout)
            {
                break; // queue order: everything after this one is younger
            }

            if (entry.TryClaim())
            {
                _slots.Release();
                Refuse(entry, PoolOutcome.QueueTimeout);
            }
        }
    }
}
