using System.Net;
using EchoServer.Connections;
using static EchoServer.TestSupport.ProxyHeaders;

namespace EchoServer.Tests.Connections;

/// <summary>The parser with an optional header: which first bytes rule a header out, which cannot tell yet, and which begin one.</summary>
public sealed class ProxyHeaderDetectionTests
{
    public static TheoryData<string, byte[]> NotHeaders => new()
    {
        { "plain text", "hello"u8.ToArray() },
        { "HTTP", "GET / HTTP/1.1\r\n"u8.ToArray() },
        { "P then another word", "POST /"u8.ToArray() },
        { "PROXY without its space", "PROXYZ"u8.ToArray() },
        { "lower case", "proxy TCP4"u8.ToArray() },
        { "CR then not LF", "\rX"u8.ToArray() },
        { "empty lines, then text", "\r\n\r\nX"u8.ToArray() },
        { "v2 signature, last byte wrong", [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B] },
    };

    [Theory]
    [MemberData(nameof(NotHeaders))]
    public void Bytes_that_leave_both_signatures_are_absent_at_the_byte_that_leaves(string name, byte[] bytes)
    {
        _ = name;
        for (int split = 1; split <= bytes.Length; split++)
        {
            var parser = new ProxyHeaderParser(optional: true);
            var first = parser.Feed(bytes.AsSpan(0, split), out _);
            var status = first == ProxyHeaderStatus.Incomplete ? parser.Feed(bytes.AsSpan(split), out _) : first;
            Assert.Equal(ProxyHeaderStatus.Absent, status);
            Assert.False(parser.Undecided);
            Assert.Null(parser.Error);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("P")]
    [InlineData("PROXY")]
    [InlineData("\r\n")]
    [InlineData("\r\n\r\n\0\r\nQUIT")]
    public void A_strict_prefix_of_a_signature_is_undecided(string prefix)
    {
        var parser = new ProxyHeaderParser(optional: true);

        Assert.Equal(ProxyHeaderStatus.Incomplete, parser.Feed(V1(prefix), out _));
        Assert.True(parser.Undecided);
    }

    [Fact]
    public void A_whole_signature_begins_a_header_which_must_then_be_valid()
    {
        var v1 = new ProxyHeaderParser(optional: true);
        Assert.Equal(ProxyHeaderStatus.Incomplete, v1.Feed("PROXY "u8, out _));
        Assert.False(v1.Undecided);
        Assert.Equal(ProxyHeaderStatus.Invalid, v1.Feed("hello\r\n"u8, out _));
        Assert.Equal("v1 header: the protocol is not TCP4, TCP6 or UNKNOWN", v1.Error);

        byte[] signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];
        var v2 = new ProxyHeaderParser(optional: true);
        Assert.Equal(ProxyHeaderStatus.Incomplete, v2.Feed(signature, out _));
        Assert.False(v2.Undecided);
        Assert.Equal(ProxyHeaderStatus.Invalid, v2.Feed((byte[])[0x31, 0x11, 0x00, 0x0C], out _));
    }

    [Fact]
    public void A_whole_header_is_complete_as_when_it_is_required()
    {
        var client = IPEndPoint.Parse("203.0.113.7:40001");
        foreach (var header in new[] { V1(client, IPEndPoint.Parse("192.0.2.1:7007")), V2(client, IPEndPoint.Parse("192.0.2.1:7007")) })
        {
            var parser = new ProxyHeaderParser(optional: true);
            Assert.Equal(ProxyHeaderStatus.Complete, parser.Feed([.. header, .. "data"u8], out int consumed));
            Assert.Equal(header.Length, consumed);
            Assert.Equal(client, parser.Source);
        }
    }

    [Fact]
    public void A_required_header_still_refuses_what_an_optional_one_takes_for_data()
    {
        var parser = new ProxyHeaderParser();

        Assert.Equal(ProxyHeaderStatus.Invalid, parser.Feed("POST /"u8, out _));
        Assert.False(parser.Undecided);
        Assert.Equal("not a PROXY protocol header (bad v1 signature)", parser.Error);
    }
}
