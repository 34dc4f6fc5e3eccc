using System.Diagnostics;

namespace EchoServer.Pools;

/// <summary>
/// The admission queue both pools share: <see cref="Slots"/> items may run at once and <see cref="Capacity"/>
/// more may wait for a slot, oldest first. One lock guards all of it, in the manner of
/// System.Threading.Channels' BoundedChannel: cancellation is checked before the lock is taken, and the
/// grant and refuse callbacks run only after it is released.
/// <para>
/// Strict FIFO: an arrival takes a free slot at once only when nobody waits, and a released slot passes
/// straight to the oldest waiter, so a later arrival can never overtake a queued one. When the queue is
/// full the overload policy decides: refuse the arrival, refuse the oldest waiter to make room, or hold the
/// arrival (oldest first) until there is room. A waiter older than the queue timeout is refused by one timer,
/// armed for the oldest waiter's deadline only (waiters leave in order, so no later one can expire first).
/// </para>
/// <para>
/// Every grant reports how long its item waited for the slot, from its arrival (zero for a slot taken at
/// once), so that a pool's wait is measured in one place for both pools.
/// </para>
/// </summary>
internal sealed class AdmissionQueue<T> : IDisposable
    where T : class
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Entry> _waiting = new();
    private readonly LinkedList<Entry> _blocked = new();
    private readonly Action<T> _grant;
    private readonly Action<T, CloseReason> _refuse;
    private readonly Action<TimeSpan>? _waited;
    private readonly WhenFull _whenFull;
    private readonly TimeSpan _timeout;
    private readonly Timer? _timer;
    private bool _timerArmed;
    private bool _completed;
    private int _free;
    private int _waitingCount;

    /// <param name="slots">Items that may run at once.</param>
    /// <param name="settings">Queue capacity, overload policy and queue timeout.</param>
    /// <param name="grant">Called (outside the lock) when a queued item is granted a slot.</param>
    /// <param name="refuse">Called (outside the lock) when a queued item is refused: timeout, dropped, completed.</param>
    /// <param name="waited">Called (outside the lock) for every grant with how long the item waited for its slot.</param>
    public AdmissionQueue(int slots, PoolSettings settings, Action<T> grant, Action<T, CloseReason> refuse, Action<TimeSpan>? waited = null)
    {
        settings.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        Slots = slots;
        _free = slots;
        Capacity = settings.QueueCapacity;
        _whenFull = settings.WhenFull;
        _timeout = settings.QueueTimeout;
        _grant = grant;
        _refuse = refuse;
        _waited = waited;
        if (_timeout > TimeSpan.Zero)
        {
            _timer = new Timer(static s => ((AdmissionQueue<T>)s!).RefuseExpired(), this, Timeout.Infinite, Timeout.Infinite);
        }
    }

    /// <summary>Items that may run at once.</summary>
    public int Slots { get; }

    /// <summary>Items that may wait for a slot (held arrivals under <see cref="WhenFull.Wait"/> are not counted).</summary>
    public int Capacity { get; }

    /// <summary>Slots held now.</summary>
    public int Busy => Slots - Volatile.Read(ref _free);

    /// <summary>Items waiting for a slot now.</summary>
    public int Waiting => Volatile.Read(ref _waitingCount);

    /// <summary>
    /// Admits <paramref name="item"/>: a slot now, a place in the queue, or a refusal. Completes at once
    /// except under <see cref="WhenFull.Wait"/> with the queue full, where it completes once there is room
    /// (or refuses with <see cref="CloseReason.Shutdown"/> when cancelled or completed meanwhile).
    /// </summary>
    public ValueTask<Admission> ArriveAsync(T item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromResult(Admission.Refused(CloseReason.Shutdown));
        }

        Entry? dropped = null;
        Entry? held = null;
        Admission admission;
        lock (_lock)
        {
            AssertInvariants();
            if (_completed)
            {
                admission = Admission.Refused(CloseReason.Shutdown);
            }
            else if (_free > 0 && _waiting.Count == 0)
            {
                SetFree(_free - 1);
                admission = Admission.Granted;
            }
            else if (_waiting.Count < Capacity)
            {
                admission = new Admission(AdmissionKind.Queued, Handle: Enqueue(new Entry(item)));
            }
            else if (_whenFull == WhenFull.DropOldest)
            {
                dropped = Dequeue();
                admission = new Admission(AdmissionKind.Queued, Handle: Enqueue(new Entry(item)));
            }
            else if (_whenFull == WhenFull.Wait)
            {
                held = new Entry(item) { Room = new TaskCompletionSource<Admission>(TaskCreationOptions.RunContinuationsAsynchronously) };
                held.Node = _blocked.AddLast(held);
                admission = default;
            }
            else
            {
                admission = Admission.Refused(CloseReason.PoolSaturated);
            }

            AssertInvariants();
        }

        if (dropped is not null)
        {
            _refuse(dropped.Item, CloseReason.DroppedOldest);
        }

        if (held is null)
        {
            if (admission.Kind == AdmissionKind.Granted)
            {
                _waited?.Invoke(TimeSpan.Zero);
            }

            return ValueTask.FromResult(admission);
        }

        if (cancellationToken.CanBeCanceled)
        {
            held.Cancellation = cancellationToken.UnsafeRegister(
                static s =>
                {
                    var (queue, entry) = ((AdmissionQueue<T>, Entry))s!;
                    queue.CancelHeld(entry);
                },
                (this, held));

            // Admitted before the registration existed: nobody else will dispose it.
            if (held.Room!.Task.IsCompleted)
            {
                held.Cancellation.Dispose();
            }
        }

        return new ValueTask<Admission>(held.Room!.Task);
    }

    /// <summary>A granted item has finished: its slot passes to the oldest waiter, or becomes free.</summary>
    public void Release()
    {
        Entry? next;
        Entry? promoted = null;
        lock (_lock)
        {
            next = Dequeue();
            if (next is null)
            {
                Debug.Assert(_free < Slots, "a release without a grant");
                SetFree(_free + 1);
            }
            else
            {
                promoted = PromoteHeld();
            }

            AssertInvariants();
        }

        if (next is not null)
        {
            var waited = Stopwatch.GetElapsedTime(next.ArrivedAt);
            _grant(next.Item); // first: the slot must pass on whatever reporting the wait does
            _waited?.Invoke(waited);
        }

        Admit(promoted);
    }

    /// <summary>Takes a queued item (by its admission handle) out of the queue; false when it already left.</summary>
    public bool TryWithdraw(object handle)
    {
        var entry = (Entry)handle;
        Entry? promoted;
        lock (_lock)
        {
            if (entry.Node?.List != _waiting)
            {
                return false;
            }

            Remove(entry);
            promoted = PromoteHeld();
            AssertInvariants();
        }

        Admit(promoted);
        return true;
    }

    /// <summary>Admits nothing more and refuses every waiting and held item with <see cref="CloseReason.Shutdown"/>.</summary>
    public void Complete()
    {
        List<Entry> waiting;
        List<Entry> held;
        lock (_lock)
        {
            _completed = true;
            waiting = [.. _waiting];
            held = [.. _blocked];
            _waiting.Clear();
            _blocked.Clear();
            SetWaiting();
        }

        _timer?.Change(Timeout.Infinite, Timeout.Infinite);
        foreach (var entry in waiting)
        {
            _refuse(entry.Item, CloseReason.Shutdown);
        }

        foreach (var entry in held)
        {
            entry.Cancellation.Dispose();
            entry.Room!.TrySetResult(Admission.Refused(CloseReason.Shutdown));
        }
    }

    /// <summary>The waiting items, oldest first, with how long each has waited.</summary>
    public IReadOnlyList<(T Item, TimeSpan Waited)> Snapshot()
    {
        long now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            return [.. _waiting.Select(e => (e.Item, Stopwatch.GetElapsedTime(e.EnqueuedAt, now)))];
        }
    }

    public void Dispose() => _timer?.Dispose();

    private Entry Enqueue(Entry entry)
    {
        entry.EnqueuedAt = Stopwatch.GetTimestamp();
        entry.Node = _waiting.AddLast(entry);
        SetWaiting();
        if (_timer is not null && !_timerArmed)
        {
            _timerArmed = true;
            _timer.Change(_timeout, Timeout.InfiniteTimeSpan);
        }

        return entry;
    }

    private Entry? Dequeue()
    {
        var first = _waiting.First?.Value;
        if (first is not null)
        {
            Remove(first);
        }

        return first;
    }

    private void Remove(Entry entry)
    {
        _waiting.Remove(entry.Node!);
        entry.Node = null;
        SetWaiting();
    }

    // Moves the oldest held arrival into the queue once a waiter has left; the caller admits it outside the lock.
    private Entry? PromoteHeld()
    {
        if (_blocked.First?.Value is not { } held || _waiting.Count >= Capacity)
        {
            return null;
        }

        _blocked.RemoveFirst();
        if (_free > 0 && _waiting.Count == 0)
        {
            SetFree(_free - 1);
            held.Node = null;
            held.Admitted = Admission.Granted;
        }
        else
        {
            held.Admitted = new Admission(AdmissionKind.Queued, Handle: Enqueue(held));
        }

        return held;
    }

    private void Admit(Entry? promoted)
    {
        if (promoted is not null)
        {
            var waited = Stopwatch.GetElapsedTime(promoted.ArrivedAt);
            promoted.Cancellation.Dispose();
            promoted.Room!.TrySetResult(promoted.Admitted);
            if (promoted.Admitted.Kind == AdmissionKind.Granted)
            {
                _waited?.Invoke(waited);
            }
        }
    }

    private void CancelHeld(Entry entry)
    {
        lock (_lock)
        {
            if (entry.Node?.List != _blocked)
            {
                return; // admitted or refused meanwhile
            }

            _blocked.Remove(entry.Node);
            entry.Node = null;
        }

        entry.Room!.TrySetResult(Admission.Refused(CloseReason.Shutdown));
    }

    private void RefuseExpired()
    {
        List<Entry>? expired = null;
        List<Entry>? promoted = null;
        lock (_lock)
        {
            long now = Stopwatch.GetTimestamp();
            while (_waiting.First?.Value is { } first && Stopwatch.GetElapsedTime(first.EnqueuedAt, now) >= _timeout)
            {
                Remove(first);
                (expired ??= []).Add(first);
                if (PromoteHeld() is { } held)
                {
                    (promoted ??= []).Add(held);
                }
            }

            _timerArmed = _waiting.First is not null && !_completed;
            if (_timerArmed)
            {
                var due = _timeout - Stopwatch.GetElapsedTime(_waiting.First!.Value.EnqueuedAt, now);
                _timer!.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }

            AssertInvariants();
        }

        foreach (var entry in expired ?? [])
        {
            _refuse(entry.Item, CloseReason.QueueTimeout);
        }

        foreach (var entry in promoted ?? [])
        {
            Admit(entry);
        }
    }

    private void SetFree(int free) => Volatile.Write(ref _free, free);

    private void SetWaiting() => Volatile.Write(ref _waitingCount, _waiting.Count);

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "invariants are checked under the lock");
        Debug.Assert(_free >= 0 && _free <= Slots, "free slots within [0, Slots]");
        Debug.Assert(_waiting.Count <= Capacity, "waiting within capacity");
        Debug.Assert(_waiting.Count == 0 || _free == 0, "nobody waits while a slot is free");
        Debug.Assert(_blocked.Count == 0 || _waiting.Count == Capacity, "arrivals are held only while the queue is full");
    }

    /// <summary>One waiting or held arrival.</summary>
    private sealed class Entry(T item)
    {
        public T Item { get; } = item;

        /// <summary>When the item arrived: a held arrival waits from here, though its queue timeout starts at <see cref="EnqueuedAt"/>.</summary>
        public long ArrivedAt { get; } = Stopwatch.GetTimestamp();

        public long EnqueuedAt { get; set; }

        public LinkedListNode<Entry>? Node { get; set; }

        /// <summary>For a held arrival: completes once it is admitted or refused.</summary>
        public TaskCompletionSource<Admission>? Room { get; init; }

        public Admission Admitted { get; set; }

        public CancellationTokenRegistration Cancellation { get; set; }
    }
}
