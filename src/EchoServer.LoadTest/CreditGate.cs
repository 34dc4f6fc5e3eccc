using System.Threading.Tasks.Sources;

namespace EchoServer.LoadTest;

/// <summary>
/// Counts free pipeline slots for one sender and one receiver without allocating: the sender awaits a credit,
/// the receiver returns one per echoed message. Reuses a single <see cref="IValueTaskSource"/>.
/// </summary>
internal sealed class CreditGate : IValueTaskSource
{
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _credits;
    private bool _waiting;

    public CreditGate(int credits) => _credits = credits;

    public ValueTask WaitAsync()
    {
        lock (_lock)
        {
            if (_credits > 0)
            {
                _credits--;
                return ValueTask.CompletedTask;
            }

            _core.Reset();
            _waiting = true;
            return new ValueTask(this, _core.Version);
        }
    }

    /// <summary>Takes a credit; returns whether it had to wait for one (the sender was held back by replies not yet in).</summary>
    public async ValueTask<bool> TakeAsync()
    {
        var credit = WaitAsync();
        bool heldBack = !credit.IsCompleted;
        await credit;
        return heldBack;
    }

    public void Release()
    {
        bool wake;
        lock (_lock)
        {
            wake = _waiting;
            _waiting = false;
            if (!wake)
            {
                _credits++;
            }
        }

        if (wake)
        {
            _core.SetResult(true);
        }
    }

    /// <summary>Wakes a waiting sender so that it can see the run has ended.</summary>
    public void Open() => Release();

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
