using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace EchoServer.Connections;

/// <summary>What <see cref="ProxyHeaderParser.Feed"/> found so far.</summary>
internal enum ProxyHeaderStatus
{
    /// <summary>No complete header yet: feed more bytes.</summary>
    Incomplete,

    /// <summary>A whole, valid header: <see cref="ProxyHeaderParser.Source"/> holds the client's address, if it names one.</summary>
    Complete,

    /// <summary>Not a valid header: <see cref="ProxyHeaderParser.Error"/> says why.</summary>
    Invalid,

    /// <summary>Optional header: the bytes rule a header out (they begin neither signature), so they are the client's data.</summary>
    Absent,
}

/// <summary>
/// Parses a PROXY protocol header, v1 (text) or v2 (binary), told apart by the first byte, from the bytes a
/// connection sends first, fed in pieces of any size as they arrive. It keeps at most 108 bytes of its own and
/// no array: a v1 line is at most 107 bytes, and of a v2 header only the fixed part and the addresses are kept
/// while its TLVs are counted and skipped. With an optional header, bytes that leave v1's <c>"PROXY "</c> and v2's
/// 12-byte signature before either is whole rule a header out (<see cref="ProxyHeaderStatus.Absent"/>); once a
/// signature is whole, the header must follow as when it is required.
/// </summary>
internal sealed class ProxyHeaderParser(bool optional = false)
{
    /// <summary>The longest v1 header the specification allows, CRLF included.</summary>
    public const int V1MaxLength = 107;

    /// <summary>
    /// The longest v2 header accepted, TLVs included. The format allows 64 KiB; real load balancers send the
    /// addresses and a few short TLVs, so a longer header is taken for garbage rather than read for seconds.
    /// </summary>
    public const int V2MaxLength = 4096;

    private const int V2FixedLength = 16;
    private const int V2KeptLength = V2FixedLength + 36; // the fixed part and a TCP6 address block
    private const byte V1First = (byte)'P';
    private const byte V2First = 0x0D;

    private Head _head;
    private int _kept;
    private int _v2Length;

    public ProxyHeaderStatus Status { get; private set; }

    /// <summary>1 or 2 once the first byte has been seen; 0 before.</summary>
    public int Version { get; private set; }

    /// <summary>
    /// The client's address and port, from a complete TCP4 or TCP6 header; null when the header asks to keep
    /// the connection's own (v1 UNKNOWN, v2 LOCAL, v2 families other than TCP over IPv4 or IPv6).
    /// </summary>
    public IPEndPoint? Source { get; private set; }

    /// <summary>What was wrong, once <see cref="Status"/> is <see cref="ProxyHeaderStatus.Invalid"/>.</summary>
    public string? Error { get; private set; }

    /// <summary>Bytes of the header consumed so far (all of it once complete).</summary>
    public int Length { get; private set; }

    /// <summary>
    /// Optional header only: every byte so far could begin one, but too few came to tell (none yet, or less than
    /// v1's <c>"PROXY "</c> or v2's signature). Past the deadline such bytes are taken for data.
    /// </summary>
    public bool Undecided => optional && Status == ProxyHeaderStatus.Incomplete && Length < (Version == 1 ? V1Prefix.Length : V2Signature.Length);

    /// <summary>
    /// The most bytes the next read should ask for. A v2 header is never read past: first its 16-byte fixed
    /// part, then exactly its length. A v1 line ends wherever its CRLF is, so reading one may take the client's
    /// first data too.
    /// </summary>
    public int Wanted => Status != ProxyHeaderStatus.Incomplete ? 0
        : _v2Length > 0 ? _v2Length - Length
        : Version == 1 ? V1MaxLength - Length
        : V2FixedLength - Length;

    /// <summary>
    /// Takes the next bytes the connection sent. <paramref name="consumed"/> is how many of them belong to the
    /// header; once it is complete, the rest of <paramref name="data"/> is the client's first data.
    /// </summary>
    public ProxyHeaderStatus Feed(ReadOnlySpan<byte> data, out int consumed)
    {
        consumed = 0;
        while (consumed < data.Length && Status == ProxyHeaderStatus.Incomplete)
        {
            if (_v2Length > 0)
            {
                consumed += TakeV2Body(data[consumed..]);
            }
            else
            {
                Take(data[consumed++]);
            }
        }

        return Status;
    }

    // v2 after its fixed part: keep the address block, count the TLVs.
    private int TakeV2Body(ReadOnlySpan<byte> data)
    {
        int take = Math.Min(data.Length, _v2Length - Length);
        int keep = Math.Clamp(V2KeptLength - _kept, 0, take);
        data[..keep].CopyTo(((Span<byte>)_head)[_kept..]);
        _kept += keep;
        Length += take;
        if (Length == _v2Length)
        {
            CompleteV2();
        }

        return take;
    }

    // One byte of a v1 line, or of a v2 fixed part.
    private void Take(byte b)
    {
        Span<byte> head = _head;
        head[_kept++] = b;
        Length++;
        if (Length == 1)
        {
            Version = b switch { V1First => 1, V2First => 2, _ => 0 };
            if (Version == 0)
            {
                NotAHeader(string.Create(CultureInfo.InvariantCulture, $"not a PROXY protocol header (first byte 0x{b:X2})"));
            }
        }
        else if (Version == 1)
        {
            TakeV1(head, b);
        }
        else if (Length <= V2Signature.Length)
        {
            if (b != V2Signature[Length - 1])
            {
                NotAHeader("not a PROXY protocol header (bad v2 signature)");
            }
        }
        else if (Length == V2FixedLength)
        {
            ReadV2Fixed(head);
        }
    }

    private void TakeV1(ReadOnlySpan<byte> head, byte b)
    {
        if (Length <= V1Prefix.Length)
        {
            if (b != V1Prefix[Length - 1])
            {
                NotAHeader("not a PROXY protocol header (bad v1 signature)");
            }
        }
        else if (b == (byte)'\n')
        {
            if (head[_kept - 2] != (byte)'\r')
            {
                Fail("v1 header: the line does not end in CRLF");
                return;
            }

            ParseV1(head[V1Prefix.Length..(_kept - 2)]);
        }
        else if (Length == V1MaxLength)
        {
            Fail("v1 header: no CRLF within 107 bytes");
        }
    }

    private void ParseV1(ReadOnlySpan<byte> line)
    {
        if (line.StartsWith("UNKNOWN"u8) && (line.Length == 7 || line[7] == (byte)' '))
        {
            Complete(null); // the rest of the line, if any, is to be ignored
            return;
        }

        var family = line.StartsWith("TCP4 "u8) ? AddressFamily.InterNetwork
            : line.StartsWith("TCP6 "u8) ? AddressFamily.InterNetworkV6
            : AddressFamily.Unknown;
        if (family == AddressFamily.Unknown)
        {
            Fail("v1 header: the protocol is not TCP4, TCP6 or UNKNOWN");
            return;
        }

        var fields = line[5..];
        if (!NextField(ref fields, out var source) || !NextField(ref fields, out var destination)
            || !NextField(ref fields, out var sourcePort) || !NextField(ref fields, out var destinationPort) || !fields.IsEmpty)
        {
            Fail("v1 header: not four fields after the protocol, one space apart");
            return;
        }

        var address = ParseAddress(source, family);
        if (address is null || ParseAddress(destination, family) is null)
        {
            Fail(family == AddressFamily.InterNetwork ? "v1 header: an address is not IPv4" : "v1 header: an address is not IPv6");
            return;
        }

        if (ParsePort(sourcePort) is not { } port || ParsePort(destinationPort) is null)
        {
            Fail("v1 header: a port is not a number from 0 to 65535");
            return;
        }

        Complete(new IPEndPoint(address, port));
    }

    private void ReadV2Fixed(ReadOnlySpan<byte> head)
    {
        int version = head[12] >> 4;
        int command = head[12] & 0x0F;
        int family = head[13] >> 4;
        int transport = head[13] & 0x0F;
        int length = BinaryPrimitives.ReadUInt16BigEndian(head[14..16]);
        if (version != 2)
        {
            Fail(string.Create(CultureInfo.InvariantCulture, $"v2 header: version {version}, not 2"));
        }
        else if (command > 1)
        {
            Fail(string.Create(CultureInfo.InvariantCulture, $"v2 header: unknown command {command}"));
        }
        else if (family > 3 || transport > 2)
        {
            Fail(string.Create(CultureInfo.InvariantCulture, $"v2 header: unknown address family and protocol 0x{head[13]:X2}"));
        }
        else if (V2FixedLength + length > V2MaxLength)
        {
            Fail(string.Create(CultureInfo.InvariantCulture, $"v2 header: {V2FixedLength + length} bytes, over the {V2MaxLength}-byte limit"));
        }
        else if (command == 1 && length < (family switch { 1 => 12, 2 => 36, 3 => 216, _ => 0 }))
        {
            Fail(string.Create(CultureInfo.InvariantCulture, $"v2 header: an address block of {length} bytes is too short for its family"));
        }
        else
        {
            _v2Length = V2FixedLength + length;
            if (length == 0)
            {
                CompleteV2();
            }
        }
    }

    private void CompleteV2()
    {
        ReadOnlySpan<byte> head = _head;
        bool proxy = (head[12] & 0x0F) == 1;
        byte familyAndTransport = head[13];
        IPEndPoint? source = !proxy ? null : familyAndTransport switch
        {
            0x11 => new IPEndPoint(new IPAddress(head.Slice(16, 4)), BinaryPrimitives.ReadUInt16BigEndian(head.Slice(24, 2))),
            0x21 => new IPEndPoint(new IPAddress(head.Slice(16, 16)), BinaryPrimitives.ReadUInt16BigEndian(head.Slice(48, 2))),
            _ => null, // LOCAL, UNSPEC, UDP or UNIX: the connection keeps its own address
        };
        Complete(source);
    }

    private void Complete(IPEndPoint? source)
    {
        Source = source;
        Status = ProxyHeaderStatus.Complete;
    }

    // Before a signature is whole: with an optional header, the bytes are data; with a required one, garbage.
    private void NotAHeader(string error)
    {
        if (optional)
        {
            Status = ProxyHeaderStatus.Absent;
        }
        else
        {
            Fail(error);
        }
    }

    private void Fail(string error)
    {
        Error = error;
        Status = ProxyHeaderStatus.Invalid;
    }

    private static bool NextField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        int space = rest.IndexOf((byte)' ');
        field = space < 0 ? rest : rest[..space];
        rest = space < 0 ? [] : rest[(space + 1)..];
        return !field.IsEmpty && (space < 0 || !rest.IsEmpty);
    }

    // Strict forms only: IPAddress.TryParse also takes "10.1" or "0x7f.1", which no proxy sends.
    private static IPAddress? ParseAddress(ReadOnlySpan<byte> text, AddressFamily family)
    {
        if (text.Length > 45)
        {
            return null;
        }

        Span<char> chars = stackalloc char[text.Length];
        int dots = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = (char)text[i];
            bool allowed = family == AddressFamily.InterNetwork ? char.IsAsciiDigit(c) || c == '.' : char.IsAsciiHexDigit(c) || c is ':' or '.';
            if (!allowed)
            {
                return null;
            }

            dots += c == '.' ? 1 : 0;
            chars[i] = c;
        }

        if (family == AddressFamily.InterNetwork && dots != 3)
        {
            return null;
        }

        return IPAddress.TryParse(chars, out var address) && address.AddressFamily == family ? address : null;
    }

    private static int? ParsePort(ReadOnlySpan<byte> text)
    {
        if (text.Length is 0 or > 5)
        {
            return null;
        }

        int value = 0;
        foreach (byte b in text)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return null;
            }

            value = (value * 10) + (b - '0');
        }

        return value <= IPEndPoint.MaxPort ? value : null;
    }

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>Room for a whole v1 line, or a v2 fixed part and a TCP6 address block, inside the parser itself.</summary>
    [InlineArray(V1MaxLength + 1)]
    private struct Head
    {
        private byte _element;
    }
}
