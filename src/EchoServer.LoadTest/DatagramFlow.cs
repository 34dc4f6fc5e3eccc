namespace EchoServer.LoadTest;

/// <summary>What a reply to one UDP flow turned out to be.</summary>
internal enum ReplyKind
{
    /// <summary>The first reply to a datagram still waiting for it.</summary>
    Answered,

    /// <summary>A reply to a datagram already answered.</summary>
    Duplicate,

    /// <summary>A reply to a datagram already counted lost (after <c>--reply-timeout</c>), or too old to tell.</summary>
    Late,

    /// <summary>A sequence number never sent: a wrong byte in the header.</summary>
    Unknown,
}

/// <summary>
/// One UDP socket's datagrams in flight: a ring of the last <c>capacity</c> sequence numbers with when each was
/// sent and whether it was answered, so that a reply can be told first, duplicate, late or out of order, and a
/// datagram unanswered past the timeout counted lost. Shared by the sender, the receiver and the expiry sweep,
/// under one lock (uncontended but for the sweep).
/// </summary>
internal sealed class DatagramFlow(int capacity)
{
    private const byte Waiting = 1;
    private const byte Answered = 2;
    private const byte Expired = 3;

    private readonly Lock _lock = new();
    private readonly long[] _seq = Enumerable.Repeat(-1L, capacity).ToArray();
    private readonly long[] _sentAt = new long[capacity];
    private readonly byte[] _state = new byte[capacity];
    private readonly bool[] _measured = new bool[capacity];
    private long _next;
    private long _oldestPending;
    private long _highestAnswered = -1;
    private int _pending;

    /// <summary>Datagrams sent and neither answered nor counted lost yet.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending;
            }
        }
    }

    /// <summary>The sequence number the next datagram carries.</summary>
    public long Next => Volatile.Read(ref _next);

    /// <summary>Records datagram <see cref="Next"/> as sent at <paramref name="sentAt"/>; the caller holds a credit for its slot.</summary>
    public long Send(long sentAt, bool measured)
    {
        lock (_lock)
        {
            long seq = _next;
            int i = (int)(seq % capacity);
            _seq[i] = seq;
            _sentAt[i] = sentAt;
            _state[i] = Waiting;
            _measured[i] = measured;
            _pending++;
            Volatile.Write(ref _next, seq + 1);
            return seq;
        }
    }

    /// <summary>Classifies a reply carrying <paramref name="seq"/>; for a first answer, gives when it was sent and whether it came after a later one.</summary>
    public ReplyKind Reply(long seq, out long sentAt, out bool measured, out bool reordered)
    {
        sentAt = 0;
        reordered = false;
        lock (_lock)
        {
            measured = false;
            if (seq < 0 || seq >= _next)
            {
                return ReplyKind.Unknown;
            }

            int i = (int)(seq % capacity);
            if (_seq[i] != seq)
            {
                return ReplyKind.Late;
            }

            measured = _measured[i];
            switch (_state[i])
            {
                case Answered:
                    return ReplyKind.Duplicate;
                case Expired:
                    return ReplyKind.Late;
            }

            _state[i] = Answered;
            _pending--;
            sentAt = _sentAt[i];
            reordered = seq < _highestAnswered;
            _highestAnswered = Math.Max(_highestAnswered, seq);
            return ReplyKind.Answered;
        }
    }

    /// <summary>Counts lost every datagram sent before <paramref name="sentBefore"/> and still unanswered; returns how many of them were measured, and how many in all.</summary>
    public (int Measured, int All) Expire(long sentBefore)
    {
        int measured = 0;
        int all = 0;
        lock (_lock)
        {
            for (; _oldestPending < _next; _oldestPending++)
            {
                int i = (int)(_oldestPending % capacity);
                if (_state[i] != Waiting)
                {
                    continue;
                }

                if (_sentAt[i] >= sentBefore)
                {
                    break;
                }

                _state[i] = Expired;
                _pending--;
                all++;
                measured += _measured[i] ? 1 : 0;
            }
        }

        return (measured, all);
    }
}
