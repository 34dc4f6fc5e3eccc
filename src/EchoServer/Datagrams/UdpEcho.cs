using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoServer.Diagnostics;
using EchoServer.Faults;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Datagrams;

/// <summary>
/// UDP echo (RFC 862's other half) on the TCP listener's address and port: one receive loop on a dedicated
/// thread reads each datagram, applies the source rules (no low ports, the per-address budget), and hands it
/// to the pool --pool names as one unit of work; the pool sends it back, unchanged, to where it came from and
/// from the address it was sent to. Every datagram not echoed is counted by its <see cref="DropReason"/>.
/// </summary>
internal sealed class UdpEcho : IDisposable
{
    private static readonly TimeSpan ReceivePoll = TimeSpan.FromMilliseconds(100);

    private readonly UdpSettings _settings;
    private readonly ILogger _logger;
    private readonly DatagramSocket _socket;
    private readonly IDatagramPool _pool;
    private readonly DatagramPool _datagrams;
    private readonly SourceBudget? _budget;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly DropSummary _summary;
    private readonly FaultSettings? _faults;
    private readonly Random? _dice;
    private Thread? _receiver;
    private int _inFlight;
    private int _stopped;
    private int _disposed;
    private volatile bool _receiving;

    /// <summary>Binds the UDP socket (so a port in use fails start-up) and builds the pool; nothing is received before <see cref="Start"/>.</summary>
    public UdpEcho(IPEndPoint endPoint, bool reusePort, UdpSettings settings, PoolKind kind, PoolSettings poolSettings, ILogger logger, BackgroundFaults faults, TimeProvider time, Action<TimeSpan>? slotWaited = null, FaultSettings? injected = null)
    {
        _faults = injected is { ShapesDatagrams: true } ? injected : null;
        _dice = _faults is null ? null : FaultDice.For(_faults.Seed, 0); // drawn by the receive loop only, in arrival order
        _settings = settings;
        _logger = logger;
        _socket = new DatagramSocket(endPoint, reusePort, ReceivePoll);
        _datagrams = new DatagramPool(poolSettings.Workers + poolSettings.QueueCapacity);
        _budget = settings.RatePerIp > 0 ? new SourceBudget(settings.RatePerIp, time) : null;
        _pool = kind == PoolKind.Workers
            ? new WorkerDatagramPool(poolSettings, d => Echo(d, wait: true), Drop, logger, slotWaited)
            : new ExecutorDatagramPool(poolSettings, d => Echo(d, wait: false), Drop, slotWaited);
        _summary = new DropSummary(Counters, logger, time, faults);
    }

    /// <summary>The bound address and port.</summary>
    public IPEndPoint LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>Datagrams and bytes in and out, drops by reason.</summary>
    public DatagramCounters Counters { get; } = new();

    /// <summary>Replies being sent and datagrams waiting for a slot, now.</summary>
    public PoolLoad Load => _pool.Load;

    /// <summary>Starts the pool and the receive loop.</summary>
    public void Start()
    {
        _pool.Start();
        _receiving = true;
        _receiver = new Thread(Receive) { IsBackground = true, Name = "echo-udp-receive" };
        _receiver.Start();
    }

    /// <summary>Stops receiving (within the loop's poll interval); what was received goes on to be echoed.</summary>
    public void StopReceiving()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _receiving = false;
            _stopping.Cancel();
            _receiver?.Join();
        }
    }

    /// <summary>Echoes what was received before the stop, within <paramref name="timeout"/>; drops the rest (reason shutdown).</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        StopReceiving();
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }

        await Task.WhenAny(_drained.Task, Task.Delay(timeout)).ConfigureAwait(false);
        _pool.Complete();
        _summary.Flush();
        var totals = Counters.Totals();
        string reasons = string.Join(", ", totals.Dropped.Where(d => d.Count > 0).Select(d => $"{d.Reason} {d.Count}"));
        DatagramLog.Stopped(_logger, totals.Received, totals.Echoed, totals.DroppedTotal, reasons.Length > 0 ? $" ({reasons})" : string.Empty, totals.BytesIn, totals.BytesOut);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StopReceiving();
        _pool.Dispose();
        _socket.Dispose();
        _summary.Dispose();
        _stopping.Dispose();
    }

    private void Receive()
    {
        var scratch = Datagram.ForReceiving();
        while (_receiving)
        {
            try
            {
                if (!_socket.Receive(scratch))
                {
                    continue;
                }

                Handle(scratch);
            }
#pragma warning disable CA1031 // The receive loop must outlive any one datagram's fault: it is counted and logged, never fatal.
            catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
            {
                _summary.Fault(ex);
            }
        }
    }

    private void Handle(Datagram received)
    {
        received.ReceivedAt = Stopwatch.GetTimestamp();
        Counters.CountReceived(received.Length);
        if (received.Truncated)
        {
            Counters.CountDropped(DropReason.Truncated);
            return;
        }

        var (address, port) = Source(received);
        if (port == 0 || (port < 1024 && !_settings.AllowLowPorts))
        {
            Counters.CountDropped(DropReason.LowPort);
            return;
        }

        if (_budget is not null && !_budget.TrySpend(address))
        {
            _summary.RateLimited(address);
            Counters.CountDropped(DropReason.RateLimit);
            return;
        }

        int copies = 1;
        var delay = TimeSpan.Zero;
        if (_faults is not null && _dice!.NextDouble() < _faults.Rate)
        {
            if (_dice.NextDouble() < _faults.Drop)
            {
                Counters.CountDropped(DropReason.Fault);
                return;
            }

            copies = _dice.NextDouble() < _faults.Duplicate ? 2 : 1;
            delay = _faults.Delay + (_faults.Jitter * _dice.NextDouble());
        }

        var datagram = _datagrams.Rent();
        datagram.CopyFrom(received);
        datagram.Copies = copies;
        datagram.Delay = delay;
        Interlocked.Increment(ref _inFlight);
        _pool.Admit(datagram, _stopping.Token);
    }

    private static (UInt128 Address, int Port) Source(Datagram datagram)
    {
        if (datagram.Remote is { } remote)
        {
            var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address : remote.Address.AddressFamily == AddressFamily.InterNetwork ? remote.Address.MapToIPv6() : remote.Address;
            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out _);
            return (System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes), remote.Port);
        }

        var (native, port, _) = DatagramSocket.ReadSource(datagram.Source.AsSpan(0, datagram.SourceLength));
        return (native, port);
    }

    private void Echo(Datagram datagram, bool wait)
    {
        if (datagram.Delay > TimeSpan.Zero)
        {
            var delay = datagram.Delay;
            datagram.Delay = TimeSpan.Zero;
            if (!wait)
            {
                _ = ReplyLaterAsync(datagram, delay); // executor: the slot goes back now, a timer holds the datagram
                return;
            }

            Thread.Sleep(delay); // workers: the worker holds the datagram, as it holds a client
        }

        try
        {
            for (int copy = 0; copy < datagram.Copies; copy++)
            {
                if (_socket.Reply(datagram, wait))
                {
                    Counters.CountEchoed(datagram.Length);
                }
                else
                {
                    Counters.CountDropped(DropReason.SendFailed);
                }
            }
        }
        finally
        {
            Done(datagram);
        }
    }

    private async Task ReplyLaterAsync(Datagram datagram, TimeSpan delay)
    {
        await FaultDelay.AtLeastAsync(delay, CancellationToken.None).ConfigureAwait(false);
        try
        {
            Echo(datagram, wait: false);
        }
#pragma warning disable CA1031 // Off the pool: what a late reply throws is counted and logged like the receive loop's.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            _summary.Fault(ex);
        }
    }

    private void Drop(Datagram datagram, CloseReason reason)
    {
        Counters.CountDropped(DropReasonNames.FromRefusal(reason));
        Done(datagram);
    }

    private void Done(Datagram datagram)
    {
        _datagrams.Return(datagram);
        if (Interlocked.Decrement(ref _inFlight) == 0 && !_receiving)
        {
            _drained.TrySetResult();
        }
    }
}
