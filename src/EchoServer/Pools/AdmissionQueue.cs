using System.Diagnostics;

namespace EchoServer.Pools;

/// <summary>
/// The admission queue both pools share: <see cref="Slots"/> items may run at once and <see cref="Capacity"/>
/// newcomers may wait for a slot, oldest first. One lock guards all of it, in the manner of
/// System.Threading.Channels' BoundedChannel: cancellation is checked before the lock is taken, and the
/// grant and refuse callbacks run only after it is released.
/// <para>
/// Strict FIFO: an arrival takes a free slot at once only when nobody waits, and a released slot passes
/// straight to the oldest waiter, so a later arrival can never overtake a queued one. A newcomer
/// (<see cref="ArriveAsync"/>) enters the queue while fewer than <see cref="Capacity"/> items wait; past that
/// the overload policy decides: refuse it, refuse the oldest waiting newcomer to make room, or hold it (oldest
/// first) until there is room. An item that was served before and has more work (<see cref="Rejoin"/>: an
/// executor session's next burst) is no newcomer: it always joins the tail, so it may take the queue past
/// <see cref="Capacity"/> (such items are bounded by the connections the caller admits), and the policy never
/// refuses or drops it; when every waiter is such an item, <see cref="WhenFull.DropOldest"/> has nobody to
/// drop and refuses the newcomer as <see cref="WhenFull.Reject"/> does. Every waiter, returning or not, is
/// counted in <see cref="Waiting"/> and listed by <see cref="Snapshot"/>, and is refused once it has waited
/// the queue timeout: one timer, armed for the oldest waiter's deadline only (waiters leave in order, so no
/// later one can expire first).
/// </para>
/// <para>
/// Every grant reports how long its item waited for the slot, from its arrival (zero for a slot taken at
/// once), so that a pool's wait is measured in one place for both pools.
/// </para>
/// </summary>
internal sealed partial class AdmissionQueue<T> : IDisposable
    where T : class
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Ticket> _waiting = new();
    private readonly LinkedList<Ticket> _newcomers = new(); // the waiting never served, oldest first: what drop-oldest may drop
    private readonly LinkedList<Ticket> _blocked = new();
    private readonly Action<T> _grant;
    private readonly Action<T, CloseReason> _refuse;
    private readonly Action<TimeSpan>? _waited;
    private readonly TimeProvider _time;
    private readonly WhenFull _whenFull;
    private readonly TimeSpan _timeout;
    private readonly ITimer? _timer;
    private bool _timerArmed;
    private bool _completed;
    private int _free;
    private int _waitingCount;

    /// <param name="slots">Items that may run at once.</param>
    /// <param name="settings">Queue capacity, overload policy and queue timeout.</param>
    /// <param name="grant">Called (outside the lock) when a queued item is granted a slot.</param>
    /// <param name="refuse">Called (outside the lock) when a queued item is refused: timeout, dropped, completed.</param>
    /// <param name="waited">Called (outside the lock) for every grant with how long the item waited for its slot.</param>
    /// <param name="time">The clock for waits and the queue timeout; defaults to <see cref="TimeProvider.System"/>.</param>
    public AdmissionQueue(int slots, PoolSettings settings, Action<T> grant, Action<T, CloseReason> refuse, Action<TimeSpan>? waited = null, TimeProvider? time = null)
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
        _time = time ?? TimeProvider.System;
        if (_timeout > TimeSpan.Zero)
        {
            _timer = _time.CreateTimer(static s => ((AdmissionQueue<T>)s!).RefuseExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Items that may run at once.</summary>
    public int Slots { get; }

    /// <summary>Newcomers that may wait for a slot (held arrivals under <see cref="WhenFull.Wait"/> and returning items are not bounded by it).</summary>
    public int Capacity { get; }

    /// <summary>Slots held now.</summary>
    public int Busy => Slots - Volatile.Read(ref _free);

    /// <summary>Items waiting for a slot now, returning ones included (so it may exceed <see cref="Capacity"/>).</summary>
    public int Waiting => Volatile.Read(ref _waitingCount);

    /// <summary>
    /// Admits a newcomer: a slot now, a place in the queue, or a refusal. Completes at once except under
    /// <see cref="WhenFull.Wait"/> with the queue full, where it completes once there is room (or refuses
    /// with <see cref="CloseReason.Shutdown"/> when cancelled or completed meanwhile).
    /// </summary>
    public ValueTask<Admission<T>> ArriveAsync(T item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromResult(Admission<T>.Refused(CloseReason.Shutdown));
        }

        Ticket? dropped = null;
        Ticket? held = null;
        Admission<T> admission = default;
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_completed)
            {
                admission = Admission<T>.Refused(CloseReason.Shutdown);
            }
            else if (TryTakeFreeSlot())
            {
                admission = Admission<T>.Granted;
            }
            else if (_waiting.Count < Capacity)
            {
                admission = Admission<T>.Queued(Enqueue(new Ticket(item, returning: false, now)));
            }
            else if (_whenFull == WhenFull.DropOldest && _newcomers.First?.Value is { } oldest)
            {
                dropped = oldest;
                Remove(dropped);
                admission = Admission<T>.Queued(Enqueue(new Ticket(item, returning: false, now)));
            }
            else if (_whenFull == WhenFull.Wait)
            {
                held = new Ticket(item, returning: false, now) { Room = new TaskCompletionSource<Admission<T>>(TaskCreationOptions.RunContinuationsAsynchronously) };
                held.Node = _blocked.AddLast(held);
            }
            else
            {
                // Reject; or drop-oldest when every waiter was served before and none of them may be dropped.
                admission = Admission<T>.Refused(CloseReason.PoolSaturated);
            }

            CheckInvariants();
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
                    var (queue, ticket) = ((AdmissionQueue<T>, Ticket))s!;
                    queue.CancelHeld(ticket);
                },
                (this, held));

            // Admitted before the registration existed: nobody else will dispose it.
            if (held.Room!.Task.IsCompleted)
            {
                held.Cancellation.Dispose();
            }
        }

        return new ValueTask<Admission<T>>(held.Room!.Task);
    }

    /// <summary>
    /// Admits an item served before that has more work: a slot now (free, and nobody waits), else the tail of
    /// the queue whatever its length. Never refused for room, never dropped, never held; only the queue
    /// timeout, a withdrawal or <see cref="Complete"/> (refused at once after it) end its wait.
    /// </summary>
    public Admission<T> Rejoin(T item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Admission<T>.Refused(CloseReason.Shutdown);
        }

        Admission<T> admission;
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            admission = _completed ? Admission<T>.Refused(CloseReason.Shutdown)
                : TryTakeFreeSlot() ? Admission<T>.Granted
                : Admission<T>.Queued(Enqueue(new Ticket(item, returning: true, now)));
            CheckInvariants();
        }

        if (admission.Kind == AdmissionKind.Granted)
        {
            _waited?.Invoke(TimeSpan.Zero);
        }

        return admission;
    }

    /// <summary>A granted item has finished: its slot passes to the oldest waiter, or becomes free.</summary>
    public void Release()
    {
        Ticket? next;
        Ticket? promoted = null;
        lock (_lock)
        {
            next = _waiting.First?.Value;
            if (next is null)
            {
                if (_free >= Slots)
                {
                    throw new InvalidOperationException("A slot was released that was never granted.");
                }

                SetFree(_free + 1);
            }
            else
            {
                Remove(next);
                promoted = PromoteHeld();
            }

            CheckInvariants();
        }

        if (next is not null)
        {
            var waited = _time.GetElapsedTime(next.ArrivedAt);
            _grant(next.Item); // first: the slot must pass on whatever reporting the wait does
            _waited?.Invoke(waited);
        }

        Admit(promoted);
    }

    /// <summary>Takes a queued item (by the ticket its admission gave) out of the queue; false when it already left.</summary>
    public bool TryWithdraw(Ticket ticket)
    {
        Ticket? promoted;
        lock (_lock)
        {
            if (ticket.Node?.List != _waiting)
            {
                return false;
            }

            Remove(ticket);
            promoted = PromoteHeld();
            CheckInvariants();
        }

        Admit(promoted);
        return true;
    }

    /// <summary>Admits nothing more and refuses every waiting and held item with <see cref="CloseReason.Shutdown"/>.</summary>
    public void Complete()
    {
        List<Ticket> waiting;
        List<Ticket> held;
        lock (_lock)
        {
            _completed = true;
            waiting = [.. _waiting];
            held = [.. _blocked];
            _waiting.Clear();
            _newcomers.Clear();
            _blocked.Clear();
            SetWaiting();
            CheckInvariants();
        }

        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        foreach (var ticket in waiting)
        {
            _refuse(ticket.Item, CloseReason.Shutdown);
        }

        foreach (var ticket in held)
        {
            ticket.Cancellation.Dispose();
            ticket.Room!.TrySetResult(Admission<T>.Refused(CloseReason.Shutdown));
        }
    }

    /// <summary>The waiting items, returning ones included, oldest first, with how long each has waited.</summary>
    public IReadOnlyList<(T Item, TimeSpan Waited)> Snapshot()
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            return [.. _waiting.Select(e => (e.Item, _time.GetElapsedTime(e.EnqueuedAt, now)))];
        }
    }

    public void Dispose() => _timer?.Dispose();

    // Timers tick in whole milliseconds: round up, so that the timer never fires before the deadline it serves.
    private static TimeSpan WholeMilliseconds(TimeSpan due) => TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(due.TotalMilliseconds)));

    private bool TryTakeFreeSlot()
    {
        if (_free == 0 || _waiting.Count > 0)
        {
            return false;
        }

        SetFree(_free - 1);
        return true;
    }

    private Ticket Enqueue(Ticket ticket)
    {
        ticket.EnqueuedAt = _time.GetTimestamp();
        ticket.Node = _waiting.AddLast(ticket);
        if (!ticket.Returning)
        {
            ticket.NewcomerNode = _newcomers.AddLast(ticket);
        }

        SetWaiting();
        if (_timer is not null && !_timerArmed)
        {
            _timerArmed = true;
            _timer.Change(WholeMilliseconds(_timeout), Timeout.InfiniteTimeSpan);
        }

        return ticket;
    }

    private void Remove(Ticket ticket)
    {
        _waiting.Remove(ticket.Node!);
        ticket.Node = null;
        if (ticket.NewcomerNode is { } newcomer)
        {
            _newcomers.Remove(newcomer);
            ticket.NewcomerNode = null;
        }

        SetWaiting();
    }

    // Moves the oldest held arrival into the queue once a waiter has left; the caller admits it outside the lock.
    private Ticket? PromoteHeld()
    {
        if (_blocked.First?.Value is not { } held || _waiting.Count >= Capacity)
        {
            return null;
        }

        _blocked.RemoveFirst();
        held.Node = null;
        held.Admitted = TryTakeFreeSlot() ? Admission<T>.Granted : Admission<T>.Queued(Enqueue(held));
        return held;
    }

    private void Admit(Ticket? promoted)
    {
        if (promoted is not null)
        {
            var waited = _time.GetElapsedTime(promoted.ArrivedAt);
            promoted.Cancellation.Dispose();
            promoted.Room!.TrySetResult(promoted.Admitted);
            if (promoted.Admitted.Kind == AdmissionKind.Granted)
            {
                _waited?.Invoke(waited);
            }
        }
    }

    private void CancelHeld(Ticket ticket)
    {
        lock (_lock)
        {
            if (ticket.Node?.List != _blocked)
            {
                return; // admitted or refused meanwhile
            }

            _blocked.Remove(ticket.Node);
            ticket.Node = null;
            CheckInvariants();
        }

        ticket.Room!.TrySetResult(Admission<T>.Refused(CloseReason.Shutdown));
    }

    private void RefuseExpired()
    {
        List<Ticket>? expired = null;
        List<Ticket>? promoted = null;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            while (_waiting.First?.Value is { } first && _time.GetElapsedTime(first.EnqueuedAt, now) >= _timeout)
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
                var due = _timeout - _time.GetElapsedTime(_waiting.First!.Value.EnqueuedAt, now);
                _timer!.Change(WholeMilliseconds(due), Timeout.InfiniteTimeSpan);
            }

            CheckInvariants();
        }

        foreach (var ticket in expired ?? [])
        {
            _refuse(ticket.Item, CloseReason.QueueTimeout);
        }

        foreach (var ticket in promoted ?? [])
        {
            Admit(ticket);
        }
    }

    private void SetFree(int free) => Volatile.Write(ref _free, free);

    private void SetWaiting() => Volatile.Write(ref _waitingCount, _waiting.Count);

    // Checked after every change, in every build (CI tests the Release build, and that is what runs): a few
    // integer comparisons beside the lock they run under. A broken invariant is a bug here, and serving out of
    // order or losing a slot would hide it: it throws instead, so that a test sees it where it happened.
    private void CheckInvariants()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "invariants are checked under the lock");
        string? broken =
            _free < 0 || _free > Slots ? "free slots within [0, Slots]"
            : _waiting.Count > 0 && _free > 0 ? "nobody waits while a slot is free"
            : _newcomers.Count > Capacity || _newcomers.Count > _waiting.Count ? "waiting newcomers within capacity, and all in the queue"
            : _blocked.Count > 0 && _waiting.Count < Capacity ? "arrivals are held only while the queue is full"
            : _waitingCount != _waiting.Count ? "the published queue length is the queue's"
            : null;
        if (broken is not null)
        {
            throw new InvalidOperationException($"Admission queue invariant broken: {broken} (slots={Slots}, free={_free}, waiting={_waiting.Count}, newcomers={_newcomers.Count}, held={_blocked.Count}, capacity={Capacity}).");
        }
    }
}
