using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using EchoServer.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoServer.Datagrams;

/// <summary>
/// Says what was dropped, and why, in one line at most every <see cref="Interval"/>: a flood of datagrams
/// must never become a flood of log lines. The busiest rate-limited source of the interval is named.
/// </summary>
internal sealed class DropSummary : IDisposable
{
    /// <summary>How often a summary may be written.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly DatagramCounters _counters;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Timer _timer;
    private readonly BackgroundFaults _background;
    private readonly long[] _reported = new long[DropReasonNames.Count];
    private readonly Lock _lock = new();
    private long _lastAt;
    private UInt128 _limitedAddress;
    private long _limitedCount;
    private long _faults;
    private Exception? _lastFault;

    public DropSummary(DatagramCounters counters, ILogger logger, TimeProvider time, BackgroundFaults faults)
    {
        _counters = counters;
        _logger = logger;
        _time = time;
        _lastAt = time.GetTimestamp();
        _background = faults;
        _timer = faults.StartTimer("The UDP drop summary", WriteLocked, Interval, Interval);
    }

    /// <summary>Notes a rate-limited datagram's source (the receive loop only).</summary>
    public void RateLimited(UInt128 address)
    {
        // The address most often limited, by a majority vote (Boyer–Moore): cheap, and a flood is one address. Under
        // the lock the summary takes too, so that it never reads half of an address.
        lock (_lock)
        {
            if (address == _limitedAddress)
            {
                _limitedCount++;
            }
            else if (--_limitedCount <= 0)
            {
                _limitedAddress = address;
                _limitedCount = 1;
            }
        }
    }

    /// <summary>Notes a receive fault, logged with the next summary.</summary>
    public void Fault(Exception exception)
    {
        lock (_lock)
        {
            _faults++;
            _lastFault = exception;
        }
    }

    /// <summary>Writes the summary of what was dropped since the last one, if anything was (contained: it runs on the stop path).</summary>
    public void Flush() => _background.Run("The UDP drop summary", WriteLocked);

    public void Dispose() => _timer.Dispose();

    private void WriteLocked()
    {
        lock (_lock)
        {
            WriteSummary();
        }
    }

    private void WriteSummary()
    {
        long now = _time.GetTimestamp();
        double seconds = _time.GetElapsedTime(_lastAt, now).TotalSeconds;
        _lastAt = now;
        if (_faults > 0)
        {
            DatagramLog.ReceiveFaulted(_logger, _lastFault!, _faults, seconds);
            _faults = 0;
            _lastFault = null;
        }

        var reasons = new StringBuilder();
        long total = 0;
        for (int i = 0; i < _reported.Length; i++)
        {
            long count = _counters.Dropped((DropReason)i);
            long delta = count - _reported[i];
            _reported[i] = count;
            if (delta > 0)
            {
                total += delta;
                reasons.Append(reasons.Length == 0 ? string.Empty : ", ").Append(((DropReason)i).ToName()).Append(' ').Append(delta.ToString(CultureInfo.InvariantCulture));
            }
        }

        if (total == 0)
        {
            return;
        }

        string busiest = _limitedCount > 0 ? $" (rate-limit mostly from {Format(_limitedAddress)})" : string.Empty;
        _limitedCount = 0;
        DatagramLog.Dropped(_logger, total, seconds, reasons.ToString(), busiest);
    }

    private static string Format(UInt128 address)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
        var ip = new IPAddress(bytes);
        return (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString();
    }
}
