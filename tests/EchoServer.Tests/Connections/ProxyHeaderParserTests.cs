using System.Net;
using EchoServer.Connections;
using static EchoServer.TestSupport.ProxyHeaders;

namespace EchoServer.Tests.Connections;

/// <summary>The PROXY protocol parser alone, without sockets: every version and family, any split, every way to be wrong.</summary>
public sealed class ProxyHeaderParserTests
{
    private static readonly byte[] Data = "hello"u8.ToArray();

    public static TheoryData<string, byte[], int, string?> ValidHeaders => new()
    {
        { "v1 TCP4", V1("PROXY TCP4 192.0.2.10 198.51.100.1 56324 7007\r\n"), 1, "192.0.2.10:56324" },
        { "v1 TCP6", V1("PROXY TCP6 2001:db8::1 2001:db8::2 4242 7007\r\n"), 1, "[2001:db8::1]:4242" },
        { "v1 UNKNOWN", V1("PROXY UNKNOWN\r\n"), 1, null },
        { "v1 UNKNOWN, longest", V1("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"), 1, null },
        { "v1 longest TCP6", V1("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"), 1, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
        { "v2 PROXY TCP4", V2(0x21, 0x11, Tcp4(IPAddress.Parse("203.0.113.7"), 40001)), 2, "203.0.113.7:40001" },
        { "v2 PROXY TCP6", V2(0x21, 0x21, Tcp6(IPAddress.Parse("2001:db8::7"), 40002)), 2, "[2001:db8::7]:40002" },
        { "v2 PROXY TCP4 with TLVs", V2(0x21, 0x11, [.. Tcp4(IPAddress.Parse("203.0.113.8"), 1), .. Tlv(0x01, "h2"u8), .. Tlv(0x02, "echo.example"u8), .. Tlv(0x04, new byte[300])]), 2, "203.0.113.8:1" },
        { "v2 PROXY TCP6 with TLVs", V2(0x21, 0x21, [.. Tcp6(IPAddress.Parse("2001:db8::8"), 65535), .. Tlv(0x05, new byte[16])]), 2, "[2001:db8::8]:65535" },
        { "v2 LOCAL", V2(0x20, 0x00, []), 2, null },
        { "v2 LOCAL with addresses", V2(0x20, 0x11, Tcp4(IPAddress.Parse("203.0.113.9"), 9)), 2, null },
        { "v2 PROXY UNSPEC", V2(0x21, 0x00, []), 2, null },
        { "v2 PROXY UDP4", V2(0x21, 0x12, Tcp4(IPAddress.Parse("203.0.113.10"), 10)), 2, null },
    };

    public static TheoryData<string, byte[], string> InvalidHeaders => new()
    {
        { "HTTP", V1("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "not a PROXY protocol header (first byte 0x47)" },
        { "TLS", [0x16, 0x03, 0x01, 0x00, 0xA5], "not a PROXY protocol header (first byte 0x16)" },
        { "v1 wrong signature", V1("PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), "not a PROXY protocol header (bad v1 signature)" },
        { "v1 lower case", V1("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), "not a PROXY protocol header (first byte 0x70)" },
        { "v1 oversize", V1("PROXY TCP4 " + new string('1', 200) + "\r\n"), "v1 header: no CRLF within 107 bytes" },
        { "v1 LF only", V1("PROXY UNKNOWN\n"), "v1 header: the line does not end in CRLF" },
        { "v1 unknown protocol", V1("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), "v1 header: the protocol is not TCP4, TCP6 or UNKNOWN" },
        { "v1 missing port", V1("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), "v1 header: not four fields after the protocol, one space apart" },
        { "v1 extra field", V1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), "v1 header: not four fields after the protocol, one space apart" },
        { "v1 double space", V1("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), "v1 header: not four fields after the protocol, one space apart" },
        { "v1 trailing space", V1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), "v1 header: not four fields after the protocol, one space apart" },
        { "v1 IPv6 in TCP4", V1("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"), "v1 header: an address is not IPv4" },
        { "v1 short IPv4", V1("PROXY TCP4 10.1 5.6.7.8 1 2\r\n"), "v1 header: an address is not IPv4" },
        { "v1 IPv4 in TCP6", V1("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"), "v1 header: an address is not IPv6" },
        { "v1 port too big", V1("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), "v1 header: a port is not a number from 0 to 65535" },
        { "v1 port not a number", V1("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"), "v1 header: a port is not a number from 0 to 65535" },
        { "v2 wrong signature", [.. V2(0x21, 0x11, Tcp4(IPAddress.Loopback, 1))[..11], 0x0B, 0x21, 0x11, 0x00, 0x0C], "not a PROXY protocol header (bad v2 signature)" },
        { "v2 version 1", V2(0x11, 0x11, Tcp4(IPAddress.Loopback, 1)), "v2 header: version 1, not 2" },
        { "v2 unknown command", V2(0x22, 0x11, Tcp4(IPAddress.Loopback, 1)), "v2 header: unknown command 2" },
        { "v2 unknown family", V2(0x21, 0x41, Tcp4(IPAddress.Loopback, 1)), "v2 header: unknown address family and protocol 0x41" },
        { "v2 TCP4 block too short", V2(0x21, 0x11, new byte[8]), "v2 header: an address block of 8 bytes is too short for its family" },
        { "v2 TCP6 block too short", V2(0x21, 0x21, new byte[12]), "v2 header: an address block of 12 bytes is too short for its family" },
        { "v2 oversize", V2(0x21, 0x11, new byte[ProxyHeaderParser.V2MaxLength]), "v2 header: 4112 bytes, over the 4096-byte limit" },
    };

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void A_whole_header_gives_its_version_and_client_address_and_leaves_the_data(string name, byte[] header, int version, string? source)
    {
        var parser = new ProxyHeaderParser();

        var status = parser.Feed([.. header, .. Data], out int consumed);

        Assert.True(status == ProxyHeaderStatus.Complete, $"{name}: {status} {parser.Error}");
        Assert.Equal(header.Length, consumed);
        Assert.Equal(header.Length, parser.Length);
        Assert.Equal(version, parser.Version);
        Assert.Equal(source, parser.Source?.ToString());
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void A_header_split_at_any_byte_parses_the_same(string name, byte[] header, int version, string? source)
    {
        byte[] stream = [.. header, .. Data];
        for (int split = 1; split < stream.Length; split++)
        {
            var parser = new ProxyHeaderParser();
            var first = parser.Feed(stream.AsSpan(0, split), out int consumedFirst);
            if (split < header.Length)
            {
                Assert.True(first == ProxyHeaderStatus.Incomplete, $"{name}, split at {split}: {first} {parser.Error}");
                Assert.Equal(split, consumedFirst);
                var second = parser.Feed(stream.AsSpan(split), out int consumedSecond);
                Assert.True(second == ProxyHeaderStatus.Complete, $"{name}, split at {split}: {second} {parser.Error}");
                Assert.Equal(header.Length - split, consumedSecond);
            }
            else
            {
                Assert.Equal(ProxyHeaderStatus.Complete, first);
                Assert.Equal(header.Length, consumedFirst);
            }

            Assert.Equal(version, parser.Version);
            Assert.Equal(source, parser.Source?.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void A_header_fed_one_byte_at_a_time_is_complete_at_its_last_byte_only(string name, byte[] header, int version, string? source)
    {
        var parser = new ProxyHeaderParser();
        for (int i = 0; i < header.Length; i++)
        {
            var status = parser.Feed(header.AsSpan(i, 1), out int consumed);
            Assert.Equal(1, consumed);
            Assert.True(status == (i == header.Length - 1 ? ProxyHeaderStatus.Complete : ProxyHeaderStatus.Incomplete), $"{name}, byte {i}: {status} {parser.Error}");
        }

        Assert.Equal(version, parser.Version);
        Assert.Equal(source, parser.Source?.ToString());
        Assert.Equal(ProxyHeaderStatus.Complete, parser.Feed(Data, out int after));
        Assert.Equal(0, after);
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void Reads_sized_by_Wanted_never_take_data_after_a_v2_header(string name, byte[] header, int version, string? source)
    {
        _ = source;
        byte[] stream = [.. header, .. Data];
        var parser = new ProxyHeaderParser();
        int read = 0;
        while (parser.Status == ProxyHeaderStatus.Incomplete)
        {
            int wanted = parser.Wanted;
            Assert.True(wanted > 0, $"{name}: nothing wanted after {read} bytes");
            int chunk = Math.Min(wanted, stream.Length - read);
            parser.Feed(stream.AsSpan(read, chunk), out _);
            read += chunk;
        }

        Assert.Equal(ProxyHeaderStatus.Complete, parser.Status);
        Assert.Equal(header.Length, parser.Length);
        if (version == 2)
        {
            Assert.Equal(header.Length, read); // not one byte of the data
        }
        else
        {
            Assert.InRange(read, header.Length, ProxyHeaderParser.V1MaxLength);
        }
    }

    [Theory]
    [MemberData(nameof(InvalidHeaders))]
    public void A_wrong_header_is_invalid_with_what_was_wrong(string name, byte[] header, string error)
    {
        var parser = new ProxyHeaderParser();

        var status = parser.Feed(header, out _);

        Assert.True(status == ProxyHeaderStatus.Invalid, $"{name}: {status}");
        Assert.Equal(error, parser.Error);
    }

    [Theory]
    [MemberData(nameof(InvalidHeaders))]
    public void A_wrong_header_is_invalid_however_it_is_split(string name, byte[] header, string error)
    {
        for (int split = 1; split < header.Length; split++)
        {
            var parser = new ProxyHeaderParser();
            if (parser.Feed(header.AsSpan(0, split), out _) == ProxyHeaderStatus.Incomplete)
            {
                parser.Feed(header.AsSpan(split), out _);
            }

            Assert.True(parser.Status == ProxyHeaderStatus.Invalid, $"{name}, split at {split}: {parser.Status}");
            Assert.Equal(error, parser.Error);
        }
    }

    [Fact]
    public void Garbage_is_refused_at_its_first_byte()
    {
        var parser = new ProxyHeaderParser();

        Assert.Equal(ProxyHeaderStatus.Invalid, parser.Feed("GET / HTTP/1.1\r\n"u8, out int consumed));
        Assert.Equal(1, consumed);
    }

    [Fact]
    public void An_oversize_v2_header_is_refused_from_its_fixed_part_without_reading_the_rest()
    {
        var header = V2(0x21, 0x11, new byte[5000]);
        var parser = new ProxyHeaderParser();

        Assert.Equal(ProxyHeaderStatus.Invalid, parser.Feed(header.AsSpan(0, 16), out int consumed));
        Assert.Equal(16, consumed);
    }

    [Fact]
    public void The_longest_v1_line_is_107_bytes()
    {
        string longest = "PROXY UNKNOWN " + new string('x', 107 - 16) + "\r\n";
        Assert.Equal(ProxyHeaderParser.V1MaxLength, longest.Length);
        Assert.Equal(ProxyHeaderStatus.Complete, new ProxyHeaderParser().Feed(V1(longest), out _));

        string tooLong = "PROXY UNKNOWN " + new string('x', 108 - 16) + "\r\n";
        var parser = new ProxyHeaderParser();
        Assert.Equal(ProxyHeaderStatus.Invalid, parser.Feed(V1(tooLong), out int consumed));
        Assert.Equal(107, consumed);
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void Every_truncated_header_is_incomplete(string name, byte[] header, int version, string? source)
    {
        _ = (version, source);
        for (int length = 0; length < header.Length; length++)
        {
            var parser = new ProxyHeaderParser();
            Assert.True(parser.Feed(header.AsSpan(0, length), out _) == ProxyHeaderStatus.Incomplete, $"{name}: {length} bytes");
        }
    }

    [Fact]
    public void The_largest_v2_header_allowed_is_accepted()
    {
        var header = V2(0x21, 0x11, [.. Tcp4(IPAddress.Parse("198.51.100.20"), 20), .. Tlv(0x04, new byte[ProxyHeaderParser.V2MaxLength - 16 - 12 - 3])]);
        Assert.Equal(ProxyHeaderParser.V2MaxLength, header.Length);

        var parser = new ProxyHeaderParser();

        Assert.Equal(ProxyHeaderStatus.Complete, parser.Feed(header, out _));
        Assert.Equal("198.51.100.20:20", parser.Source?.ToString());
    }

    private static byte[] Tcp4(IPAddress source, int port) => Addresses(new IPEndPoint(source, port), new IPEndPoint(IPAddress.Parse("192.0.2.1"), 7007));

    private static byte[] Tcp6(IPAddress source, int port) => Addresses(new IPEndPoint(source, port), new IPEndPoint(IPAddress.IPv6Loopback, 7007));
}
