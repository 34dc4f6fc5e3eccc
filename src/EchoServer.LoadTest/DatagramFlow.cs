using System.Diagnostics;

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
/// under one lock (uncontended but for the sweep). A slot is free again only once every older datagram is
/// answered or lost (the ring never overwrites one still waiting), so the sender takes a credit per datagram and
/// gets back the slots <see cref="Reply"/> and <see cref="Expire"/> free.
/// </summary>
internal sealed class DatagramFlow(int capacity)
{
    private const byte Waiting = 1;
    private const byte Answered = 2;
    private const byte Expired = 3;

    private readonly Lock _lock = new();
    private readonly long[] _seq = Enumerable.Repeat(-1L, capacity).ToArray();
    private readonly long[] _sentAt = new long[capacity];
    private readonly long[] _leftAt = new long[capacity];
    private readonly byte[] _state = new byte[capacity];
    private readonly bool[] _measured = new bool[capacity];
    private long _next;
    private long _oldest;
    private long _highestAnswered = -1;
    private int _pending;

    /// <summary>The most datagrams in flight: the ring's length.</summary>
    public int Capacity => capacity;

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

    /// <summary>
    /// Records datagram <see cref="Next"/>: its latency counts from <paramref name="sentAt"/> (in open loop, when it
    /// was due), its timeout from now, when it really leaves. The caller holds a credit for its slot.
    /// </summary>
    public long Send(long sentAt, bool measured)
    {
        lock (_lock)
        {
            long seq = _next;
            int i = (int)(seq % capacity);
            _seq[i] = seq;
            _sentAt[i] = sentAt;
            _leftAt[i] = Stopwatch.GetTimestamp();
            _state[i] = Waiting;
            _measured[i] = measured;
            _pending++;
            Volatile.Write(ref _next, seq + 1);
            return seq;
        }
    }

    /// <summary>
    /// Classifies a reply carrying <paramref name="seq"/>; for a first answer, gives when it was sent, whether it came
    /// after a later one, and how many slots it freed (0 unless it was the oldest waiting).
    /// </summary>
    public ReplyKind Reply(long seq, out long sentAt, out bool measured, out bool reordered, out int freed)
    {
        sentAt = 0;
        reordered = false;
        freed = 0;
        lock (_lock)
        {
            measured = false;
            if (seq < 0 || seq >= _next)
            {
                return ReplyKind.Unknown;
            }

            int i = (int)(seq % capacity);
            measured = _measured[i]; // for one too old to remember, the newer datagram's: measured the same but at the edges
            if (_seq[i] != seq)
            {
                return ReplyKind.Late; // its slot went to a newer datagram, so it was answered or lost long ago
            }

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
            freed = FreeResolved();
            return ReplyKind.Answered;
        }
    }

    /// <summary>Counts lost every datagram that left before <paramref name="sentBefore"/> and is still unanswered; returns how many (and of them measured), and how many slots that freed.</summary>
    public (int Expired, int Measured, int Freed) Expire(long sentBefore)
    {
        int expired = 0;
        int measured = 0;
        lock (_lock)
        {
            // Sent in order: the first one waiting and not yet due ends the sweep.
            for (long seq = _oldest; seq < _next; seq++)
            {
                int i = (int)(seq % capacity);
                if (_state[i] != Waiting)
                {
                    continue;
                }

                if (_leftAt[i] >= sentBefore)
                {
                    break;
                }

                _state[i] = Expired;
                _pending--;
                expired++;
                measured += _measured[i] ? 1 : 0;
            }

            return (expired, measured, FreeResolved());
        }
    }

    /// <summary>Moves the oldest-waiting mark past every datagram answered or lost; returns how many slots that freed. Under the lock.</summary>
    private int FreeResolved()
    {
        int freed = 0;
        while (_oldest < _next && _state[(int)(_oldest % capacity)] != Waiting)
        {
            _oldest++;
            freed++;
        }

        return freed;
    }
}
