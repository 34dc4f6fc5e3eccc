using EchoServer.Pools;

namespace EchoServer.Tests.Pools;

/// <summary>
/// The admission queue's rules written plainly, as the reference a model-based test holds the real queue to:
/// a list of waiters, a list of held arrivals and a count of free slots, on a clock that moves only in
/// <see cref="Advance"/>. No locks, no timers, no linked lists: each rule is the sentence the docs say.
/// </summary>
internal sealed class AdmissionQueueModel(int slots, int capacity, WhenFull whenFull, TimeSpan timeout)
{
    private readonly List<Waiter> _waiting = [];
    private readonly List<(string Id, TimeSpan ArrivedAt)> _held = [];
    private readonly int _slots = slots;
    private int _free = slots;
    private bool _completed;

    public TimeSpan Now { get; private set; }

    public int Busy => _slots - _free;

    public IReadOnlyList<(string Id, TimeSpan Waited)> Queue => [.. _waiting.Select(w => (w.Id, Now - w.EnqueuedAt))];

    /// <summary>Grants and refusals the callbacks report, in order.</summary>
    public List<string> Decisions { get; } = [];

    /// <summary>The wait of every grant, in order.</summary>
    public List<TimeSpan> Waits { get; } = [];

    /// <summary>How held arrivals were answered, in order.</summary>
    public List<string> HeldAnswers { get; } = [];

    /// <summary>Held arrivals, oldest first.</summary>
    public IEnumerable<string> Held => _held.Select(h => h.Id);

    public string Arrive(string id)
    {
        if (_completed)
        {
            return "refused shutdown";
        }

        if (TakeFreeSlot())
        {
            return "granted";
        }

        if (_waiting.Count < capacity)
        {
            _waiting.Add(new Waiter(id, Returning: false, Now, Now));
            return "queued";
        }

        // Drop-oldest drops the oldest waiter never served; with none, the newcomer is refused as by reject.
        if (whenFull == WhenFull.DropOldest && _waiting.FirstOrDefault(w => !w.Returning) is { } oldest)
        {
            _waiting.Remove(oldest);
            Decisions.Add($"refused {oldest.Id} dropped-oldest");
            _waiting.Add(new Waiter(id, Returning: false, Now, Now));
            return "queued";
        }

        if (whenFull == WhenFull.Wait)
        {
            _held.Add((id, Now));
            return "held";
        }

        return "refused pool-saturated";
    }

    /// <summary>An item served before: a free slot if nobody waits, else the tail of the queue, whatever its length.</summary>
    public string Rejoin(string id)
    {
        if (_completed)
        {
            return "refused shutdown";
        }

        if (TakeFreeSlot())
        {
            return "granted";
        }

        _waiting.Add(new Waiter(id, Returning: true, Now, Now));
        return "queued";
    }

    public void Release()
    {
        if (_waiting.Count == 0)
        {
            _free++;
            return;
        }

        var next = _waiting[0];
        _waiting.RemoveAt(0);
        Decisions.Add($"granted {next.Id}");
        Waits.Add(Now - next.ArrivedAt);
        PromoteHeld();
    }

    public bool Withdraw(string id)
    {
        int index = _waiting.FindIndex(w => w.Id == id);
        if (index < 0)
        {
            return false;
        }

        _waiting.RemoveAt(index);
        PromoteHeld();
        return true;
    }

    public void Cancel(string id)
    {
        int index = _held.FindIndex(h => h.Id == id);
        if (index >= 0)
        {
            _held.RemoveAt(index);
            HeldAnswers.Add($"{id} refused shutdown");
        }
    }

    /// <summary>Time passes: each waiter is refused at its own deadline, and a held arrival may take its place then.</summary>
    public void Advance(TimeSpan by)
    {
        var target = Now + by;
        while (timeout > TimeSpan.Zero && !_completed && _waiting.Count > 0 && _waiting[0].EnqueuedAt + timeout <= target)
        {
            Now = _waiting[0].EnqueuedAt + timeout;
            while (_waiting.Count > 0 && _waiting[0].EnqueuedAt + timeout <= Now)
            {
                Decisions.Add($"refused {_waiting[0].Id} queue-timeout");
                _waiting.RemoveAt(0);
                PromoteHeld();
            }
        }

        Now = target;
    }

    public void Complete()
    {
        _completed = true;
        Decisions.AddRange(_waiting.Select(w => $"refused {w.Id} shutdown"));
        HeldAnswers.AddRange(_held.Select(h => $"{h.Id} refused shutdown"));
        _waiting.Clear();
        _held.Clear();
    }

    private bool TakeFreeSlot()
    {
        if (_free == 0 || _waiting.Count > 0)
        {
            return false;
        }

        _free--;
        Waits.Add(TimeSpan.Zero);
        return true;
    }

    // A held arrival enters once fewer than the capacity wait, its wait counted from its arrival.
    private void PromoteHeld()
    {
        if (_held.Count == 0 || _waiting.Count >= capacity)
        {
            return;
        }

        var (id, arrivedAt) = _held[0];
        _held.RemoveAt(0);
        if (_free > 0 && _waiting.Count == 0)
        {
            _free--;
            Waits.Add(Now - arrivedAt);
            HeldAnswers.Add($"{id} granted");
        }
        else
        {
            _waiting.Add(new Waiter(id, Returning: false, arrivedAt, Now));
            HeldAnswers.Add($"{id} queued");
        }
    }

    private sealed record Waiter(string Id, bool Returning, TimeSpan ArrivedAt, TimeSpan EnqueuedAt);
}
