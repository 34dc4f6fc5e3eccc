using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace EchoServer.IoUring;

/// <summary>
/// One connection's requests on a ring: a multishot receive into the ring's provided buffers (armed only while
/// the session wants data, so an idle connection holds no buffer), and one send at a time. Everything here runs on
/// the ring's thread; completions resume the session's awaits inline. The socket's handle is referenced from
/// <see cref="Open"/> to <see cref="CloseAsync"/>, so its descriptor number cannot be reused while requests name it.
/// </summary>
internal sealed unsafe class RingSocket : IValueTaskSource, IValueTaskSource<int>
{
    /// <summary>No end of stream seen yet.</summary>
    public const int StillOpen = 1;

    /// <summary>Filled buffers a socket may hold before its receive is cancelled (backpressure: it is not read until its session catches up).</summary>
    public const int MaxHeld = 16;

    private readonly RingLoop _loop;
    private readonly SafeHandle _handle;
    private readonly int _fd;
    private readonly int _index;
    private readonly Queue<ulong> _held = new();
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = false };
    private ManualResetValueTaskSourceCore<int> _sent = new() { RunContinuationsAsynchronously = false };
    private int _end = StillOpen;
    private int _inFlight;
    private bool _receiving;
    private bool _cancelling;
    private bool _starved;
    private bool _awaitingData;
    private bool _closing;

    private RingSocket(RingLoop loop, SafeHandle handle)
    {
        _loop = loop;
        _handle = handle;
        _fd = (int)handle.DangerousGetHandle();
        _index = loop.Add(this);
    }

    /// <summary>How the stream ended: 0 at the client's FIN, -errno on an error; <see cref="StillOpen"/> while it has not.</summary>
    public int End => _end;

    /// <summary>Filled buffers waiting to be echoed.</summary>
    public int Held => _held.Count;

    /// <summary>True while a multishot receive is in flight.</summary>
    public bool Receiving => _receiving;

    /// <summary>Starts a socket's life on <paramref name="loop"/>; on its thread. Throws <see cref="ObjectDisposedException"/> for a socket already closed.</summary>
    public static RingSocket Open(RingLoop loop, Socket socket)
    {
        var handle = socket.SafeHandle;
        bool added = false;
        handle.DangerousAddRef(ref added);
        return new RingSocket(loop, handle);
    }

    public static ulong Encode(int index, RingOp op) => ((ulong)(uint)index << 8) | (byte)op;

    public static (int Index, RingOp Op) Decode(ulong userData) => ((int)(userData >> 8), (RingOp)(byte)userData);

    /// <summary>Copies <paramref name="bytes"/> to native memory a send can name across awaits; free it with <see cref="FreeCopy"/>.</summary>
    public static nint CopyToNative(ReadOnlySpan<byte> bytes)
    {
        void* memory = NativeMemory.Alloc((nuint)Math.Max(1, bytes.Length));
        bytes.CopyTo(new Span<byte>(memory, bytes.Length));
        return (nint)memory;
    }

    public static void FreeCopy(nint memory) => NativeMemory.Free((void*)memory);

    /// <summary>Completes once data, the end of the stream or an error is there; arms the receive if it is not.</summary>
    public ValueTask WaitForDataAsync()
    {
        if (HasData)
        {
            return default;
        }

        _awaitingData = true;
        if (!_receiving)
        {
            Arm();
        }

        _signal.Reset();
        return new ValueTask(this, _signal.Version);
    }

    /// <summary>Takes the oldest filled buffer: its id and the bytes in it.</summary>
    public bool TryTake(out ushort id, out int length)
    {
        if (_held.TryDequeue(out ulong chunk))
        {
            id = (ushort)(chunk >> 32);
            length = (int)(uint)chunk;
            return true;
        }

        id = 0;
        length = 0;
        return false;
    }

    /// <summary>Where buffer <paramref name="id"/>'s bytes are.</summary>
    public nint BufferAddress(ushort id) => (nint)_loop.Buffers.Buffer(id);

    /// <summary>Gives a buffer taken with <see cref="TryTake"/> back to the ring.</summary>
    public void Return(ushort id) => _loop.ReturnBuffer(id);

    /// <summary>
    /// Sends <paramref name="length"/> bytes at <paramref name="data"/>; the result is the bytes the kernel took, or
    /// -errno. Without <paramref name="wait"/> the send never waits for room: -EAGAIN or a short count says the
    /// client is slow. The memory must stay put until the result is there.
    /// </summary>
    public ValueTask<int> SendAsync(nint data, int length, bool wait)
    {
        Sqe* sqe = _loop.NextSqe();
        sqe->Opcode = RingConstants.OpSend;
        sqe->Fd = _fd;
        sqe->Address = (ulong)data;
        sqe->Length = (uint)length;
        sqe->OpFlags = (uint)(Interop.MsgNoSignal | (wait ? 0 : Interop.MsgDontWait));
        sqe->UserData = Encode(_index, RingOp.Send);
        _inFlight++;
        _sent.Reset();
        return new ValueTask<int>(this, _sent.Version);
    }

    /// <summary>
    /// Sends what the kernel takes at once, never waiting for room: the bytes taken, or -errno (-EAGAIN: none).
    /// When the ring has other requests to hand over this round, the send is one of them (one system call for all);
    /// alone, it is a send(2) of its own, which saves a completion's round trip (a lower latency at one connection).
    /// </summary>
    public ValueTask<int> SendNowAsync(nint data, int length) =>
        _loop.Alone ? new(Interop.SendNow(_fd, (void*)data, length, Interop.MsgNoSignal | Interop.MsgDontWait)) : SendAsync(data, length, wait: false);

    /// <summary>Ends the socket's life on the ring: gives back what it holds, cancels its receive, and completes once no request names it.</summary>
    public ValueTask CloseAsync()
    {
        _closing = true;
        _awaitingData = false;
        ReturnHeld();
        _starved = false; // if queued as starved, the ring's later Rearm finds it closing and does nothing

        if (_receiving && !_cancelling)
        {
            Cancel();
        }

        if (_inFlight == 0)
        {
            Release();
            return default;
        }

        _signal.Reset();
        return new ValueTask(this, _signal.Version);
    }

    /// <summary>Called by the ring when a buffer came back for a socket that found none.</summary>
    public void Rearm()
    {
        if (!_starved)
        {
            return; // closed since it was queued
        }

        _starved = false;
        if (_awaitingData && !_receiving && !_closing)
        {
            Arm();
        }
    }

    public void OnCompletion(RingOp op, in Cqe completion)
    {
        switch (op)
        {
            case RingOp.Receive:
                OnReceive(completion);
                break;
            case RingOp.Send:
                _inFlight--;
                _sent.SetResult(completion.Result);
                break;
            case RingOp.Cancel:
                _inFlight--;
                FinishCloseIfDone();
                break;
        }
    }

    void IValueTaskSource.GetResult(short token) => _signal.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);

    int IValueTaskSource<int>.GetResult(short token) => _sent.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _sent.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _sent.OnCompleted(continuation, state, token, flags);

    private bool HasData => _held.Count > 0 || _end != StillOpen;

    private void OnReceive(in Cqe completion)
    {
        if (!completion.More)
        {
            _receiving = false;
            _cancelling = false;
            _inFlight--;
        }

        int result = completion.Result;
        if (completion.HasBuffer)
        {
            _loop.Buffers.Taken();
            if (result > 0 && !_closing)
            {
                _held.Enqueue(((ulong)completion.BufferId << 32) | (uint)result);
            }
            else
            {
                _loop.ReturnBuffer(completion.BufferId);
            }
        }
        else if (result == 0)
        {
            _end = 0; // the client's FIN (or our own shutdown of the receive side)
        }
        else if (result < 0 && result is not -Interop.ENOBUFS and not -Interop.ECANCELED)
        {
            _end = result;
        }

        if (_closing)
        {
            FinishCloseIfDone();
            return;
        }

        if (_held.Count >= MaxHeld && _receiving && !_cancelling)
        {
            Cancel();
        }

        if (!_awaitingData)
        {
            return;
        }

        if (HasData)
        {
            _awaitingData = false;
            _signal.SetResult(true);
        }
        else if (!_receiving)
        {
            Arm(); // ended without data (no buffer free, or a cancelled receive): ask again, or wait for a buffer
        }
    }

    private void Arm()
    {
        if (_loop.Buffers.Available == 0 && !_loop.Buffers.TryGrow())
        {
            if (!_starved)
            {
                _starved = true;
                _loop.Starve(this);
            }

            return;
        }

        Sqe* sqe = _loop.NextSqe();
        sqe->Opcode = RingConstants.OpRecv;
        sqe->Flags = RingConstants.SqeBufferSelect;
        sqe->IoPriority = RingConstants.RecvMultishot;
        sqe->Fd = _fd;
        sqe->BufferGroup = _loop.Buffers.Group;
        sqe->UserData = Encode(_index, RingOp.Receive);
        _receiving = true;
        _inFlight++;
    }

    private void Cancel()
    {
        Sqe* sqe = _loop.NextSqe();
        sqe->Opcode = RingConstants.OpAsyncCancel;
        sqe->Address = Encode(_index, RingOp.Receive);
        sqe->UserData = Encode(_index, RingOp.Cancel);
        _cancelling = true;
        _inFlight++;
    }

    private void ReturnHeld()
    {
        while (TryTake(out ushort id, out _))
        {
            _loop.ReturnBuffer(id);
        }
    }

    private void FinishCloseIfDone()
    {
        if (_closing && _inFlight == 0)
        {
            Release();
            _signal.SetResult(true);
        }
    }

    private void Release()
    {
        _loop.Remove(_index);
        _handle.DangerousRelease();
    }
}
