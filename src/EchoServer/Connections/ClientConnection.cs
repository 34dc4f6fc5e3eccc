using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoServer.Echo;

namespace EchoServer.Connections;

/// <summary>
/// One accepted client from accept to close: its socket, its progress, how it is stopped from outside, and an
/// idempotent close that reports the connection exactly once: to the stages that asked to hear of it, then to
/// its dispatcher.
/// </summary>
internal sealed class ClientConnection
{
    private const int NotAborted = -1;

    private readonly Action<ClientConnection> _onRefused;
    private readonly Action<ClientConnection> _onClosed;
    private StageState? _stageState;
    private CancellationTokenSource? _stopping;
    private int _abortReason = NotAborted;
    private int _hardAborted;
    private int _closed;
    private int _acceptLogged;

    /// <param name="id">Its number, from 1, in every log line about it.</param>
    /// <param name="socket">The accepted socket.</param>
    /// <param name="onRefused">Reports a refusal, before the client sees the close.</param>
    /// <param name="onClosed">Reports the close, once.</param>
    public ClientConnection(long id, Socket socket, Action<ClientConnection> onRefused, Action<ClientConnection> onClosed)
    {
        Id = id;
        Socket = socket;
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint;
        AcceptedAt = Stopwatch.GetTimestamp();
        _onRefused = onRefused;
        _onClosed = onClosed;
    }

    public long Id { get; }

    public Socket Socket { get; }

    /// <summary>The client's address: the peer's, or the one its PROXY protocol header names (set before the connection reaches the pool).</summary>
    public IPEndPoint? RemoteEndPoint { get; set; }

    /// <summary>Data read before the session (with the PROXY protocol header, or the bytes that ruled an optional one out), echoed before anything read later; null for none.</summary>
    public byte[]? Preread
    {
        get => StageStateOrNull?.Preread;
        set => StageStateFor(value)?.Preread = value;
    }

    /// <summary>
    /// The stream the session echoes through, set by a stage that must see every byte (a TLS handshake, a fault
    /// plan); null for the plaintext fast path on the bare socket. Disposed with the connection.
    /// </summary>
    public Stream? Stream
    {
        get => StageStateOrNull?.Stream;
        set => StageStateFor(value)?.Stream = value;
    }

    /// <summary>
    /// Of the kernel's unsent bytes, the echoed bytes they hold, for a stream that changes them on the wire (TLS sends
    /// ciphertext, longer than the data, whose half-sent record the client cannot read); null when they are the same.
    /// </summary>
    public Func<int, int>? UnsentEchoed
    {
        get => StageStateOrNull?.UnsentEchoed;
        set => StageStateFor(value)?.UnsentEchoed = value;
    }

    /// <summary>What stages add to the close line and the snapshot (<c>tls=TLSv1.3</c>, <c>fault=reset-after</c>), in the order added; empty for none.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Details => StageStateOrNull is { } state ? Volatile.Read(ref state.Details) ?? [] : [];

    /// <summary>Bytes, waits and the stop request, as the echo loop reports them.</summary>
    public EchoProgress Progress { get; } = new();

    /// <summary>Stopwatch timestamp of accept.</summary>
    public long AcceptedAt { get; }

    /// <summary>Stopwatch timestamp of the moment its session started; 0 while queued or if never served.</summary>
    public long StartedAt { get; private set; }

    /// <summary>What served it: the worker thread's name (<c>echo-worker-N</c>) or <c>executor</c>; null if nothing did.</summary>
    public string? ServedBy { get; private set; }

    public long BytesIn => Progress.BytesIn;

    public long BytesOut => Progress.BytesOut;

    /// <summary>Why it ended; meaningful once closed.</summary>
    public CloseReason Reason { get; private set; }

    /// <summary>True once a stage or the pool refused it (at arrival or later): it counts as refused, not served.</summary>
    public bool Refused { get; private set; }

    /// <summary>Why it was refused; meaningful once <see cref="Refused"/>.</summary>
    public CloseReason RefusalReason { get; private set; }

    /// <summary>What was wrong, for a refusal that says more than its reason (a bad PROXY protocol header); null otherwise.</summary>
    public string? RefusalProblem
    {
        get => StageStateOrNull?.RefusalProblem;
        private set => StageStateFor(value)?.RefusalProblem = value;
    }

    /// <summary>True once its "accepted" line was logged: a connection refused on arrival gets none.</summary>
    public bool AcceptLogged => Volatile.Read(ref _acceptLogged) != 0;

    /// <summary>Claims the "accepted" line for the caller; true only the first time.</summary>
    public bool TryMarkAcceptLogged() => Interlocked.Exchange(ref _acceptLogged, 1) == 0 && !IsClosed;

    /// <summary>The reason it was stopped from outside with, if it was.</summary>
    public CloseReason? AbortReason => Volatile.Read(ref _abortReason) is var r && r != NotAborted ? (CloseReason)r : null;

    /// <summary>Cancelled when the connection is stopped from outside; a session waiting for a slot watches it.</summary>
    public CancellationToken Stopping
    {
        get
        {
            if (Volatile.Read(ref _stopping) is null)
            {
                var created = new CancellationTokenSource();
                if (Interlocked.CompareExchange(ref _stopping, created, null) is not null)
                {
                    created.Dispose();
                }
                else if (AbortReason is not null)
                {
                    created.Cancel(); // stopped before anyone asked for the token
                }
            }

            return _stopping!.Token;
        }
    }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public TimeSpan QueuedFor => StartedAt == 0 ? Stopwatch.GetElapsedTime(AcceptedAt) : Stopwatch.GetElapsedTime(AcceptedAt, StartedAt);

    public TimeSpan Age => Stopwatch.GetElapsedTime(AcceptedAt);

    public void MarkStarted(string servedBy)
    {
        ServedBy = servedBy;
        StartedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Has <paramref name="callback"/> run when the connection closes, before it is reported closed: for a stage
    /// that holds something for the connection (a per-address count). Set during the hand-off, before the session.
    /// </summary>
    public void OnClose(Action<ClientConnection, object?> callback, object? state)
    {
        var stageState = GetOrCreateStageState();
        stageState.CloseCallbacks = new CloseCallback(callback, state, stageState.CloseCallbacks);
    }

    /// <summary>
    /// Adds <paramref name="key"/>=<paramref name="value"/> to what the close line and the snapshot say of this
    /// connection; a stage calls it during the hand-off or the session (one writer at a time, as the hand-off runs).
    /// </summary>
    public void AddDetail(string key, string value)
    {
        var state = GetOrCreateStageState();
        var details = new List<KeyValuePair<string, string>>(state.Details ?? []) { new(key, value) };
        Volatile.Write(ref state.Details, details); // copied on write: a snapshot may read them while the session runs
    }

    /// <summary>Closes a connection that a stage or the pool will not serve (or no longer serves): it counts as refused.</summary>
    /// <param name="reason">Why, in the close line and the refusal metric.</param>
    /// <param name="problem">What was wrong, when the reason alone does not say (logged in the refusal line).</param>
    public void Refuse(CloseReason reason, string? problem = null)
    {
        RefusalReason = reason;
        RefusalProblem = problem;
        Refused = true;
        _onRefused(this);
        Close(reason);
    }

    /// <summary>
    /// Stops the session from outside, politely: it stops reading (shutting the receive side wakes a receive,
    /// blocking or not), and <see cref="Close"/> then sends what was echoed, and a FIN after it. The first
    /// reason given is the one reported.
    /// </summary>
    public void Stop(CloseReason reason)
    {
        if (!TrySetAbortReason(reason))
        {
            return;
        }

        Progress.RequestStop();
        CancelStopping();
        try
        {
            Socket.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone: the session ends on its own.
        }
    }

    /// <summary>
    /// Stops the session from outside at once with a reset (a client that does not read, or one that did not
    /// end after <see cref="Stop"/>). Bytes still in the send queue are lost, and no longer counted as echoed.
    /// </summary>
    public void Abort(CloseReason reason)
    {
        TrySetAbortReason(reason);
        if (IsClosed || Interlocked.Exchange(ref _hardAborted, 1) != 0)
        {
            return;
        }

        Progress.RequestStop();
        CancelStopping();
        if (SendQueue.Unsent(Socket) is int unsent and > 0)
        {
            Progress.Undeliver(UnsentEchoed?.Invoke(unsent) ?? unsent);
        }

        Socket.Dispose(); // wakes a worker blocked in a send; the runtime resets the connection
    }

    /// <summary>
    /// Closes the connection and reports it, once; later calls do nothing. Unless it was reset, the close is
    /// graceful: a FIN after the last echoed byte, and unread input discarded first so that the kernel does not
    /// answer it with a reset that would throw away echoed bytes the client has not read yet.
    /// </summary>
    public void Close(CloseReason reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        Reason = AbortReason ?? reason;
        if (Volatile.Read(ref _hardAborted) == 0)
        {
            SocketErrors.TryShutdownSend(Socket);
            DiscardInput(Socket);
        }

        Stream?.Dispose();
        Socket.Dispose();
        Volatile.Read(ref _stopping)?.Dispose();
        for (var callback = StageStateOrNull?.CloseCallbacks; callback is not null; callback = callback.Next)
        {
            callback.Run(this, callback.State);
        }

        _onClosed(this);
    }

    /// <summary>What the stages set, or null while none set anything.</summary>
    private StageState? StageStateOrNull => Volatile.Read(ref _stageState);

    /// <summary>The stage state to store <paramref name="value"/> in; null when the value is null and there is none yet (nothing to clear).</summary>
    private StageState? StageStateFor(object? value) => value is null ? StageStateOrNull : GetOrCreateStageState();

    private StageState GetOrCreateStageState() =>
        StageStateOrNull ?? Interlocked.CompareExchange(ref _stageState, new StageState(), null) ?? _stageState!;

    private bool TrySetAbortReason(CloseReason reason) => Interlocked.CompareExchange(ref _abortReason, (int)reason, NotAborted) == NotAborted;

    private void CancelStopping()
    {
        try
        {
            Volatile.Read(ref _stopping)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile.
        }
    }

    private static void DiscardInput(Socket socket)
    {
        Span<byte> scratch = stackalloc byte[4096];
        try
        {
            // Bounded: a client still streaming at us gets its reset; one that paused gets a clean close.
            for (int i = 0; i < 64 && socket.Available > 0; i++)
            {
                if (socket.Receive(scratch, SocketFlags.None, out _) <= 0)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Nothing left to read from a socket that failed.
        }
    }

    /// <summary>
    /// What only a stage sets (a PROXY header's data, a TLS session or a fault plan, close callbacks, details, a
    /// refusal's problem): one object allocated the first time a stage sets anything, so a plain connection carries
    /// one reference instead of six.
    /// </summary>
    private sealed class StageState
    {
        public byte[]? Preread;
        public Stream? Stream;
        public Func<int, int>? UnsentEchoed;
        public CloseCallback? CloseCallbacks;
        public List<KeyValuePair<string, string>>? Details;
        public string? RefusalProblem;
    }

    private sealed record CloseCallback(Action<ClientConnection, object?> Run, object? State, CloseCallback? Next);
}
