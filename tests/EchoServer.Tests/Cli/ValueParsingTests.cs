using EchoServer.CommandLine;

namespace EchoServer.Tests.Cli;

public sealed class ValueParsingTests
{
    [Theory]
    [InlineData("16384", 16384)]
    [InlineData("64", 64)]
    [InlineData("64B", 64)]
    [InlineData("1KiB", 1024)]
    [InlineData("16KiB", 16384)]
    [InlineData("16k", 16384)]
    [InlineData("1MiB", 1 << 20)]
    [InlineData(" 2 MiB ", 2 << 20)]
    [InlineData("1GiB", 1L << 30)]
    public void ByteSize_parses_plain_and_binary_units(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var size));
        Assert.Equal(bytes, size.Bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("1.5KiB")]
    [InlineData("KiB")]
    [InlineData("12XB")]
    [InlineData("99999999999999999999")]
    public void ByteSize_rejects_what_is_not_a_size(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Theory]
    [InlineData(16384, "16KiB")]
    [InlineData(1000, "1000")]
    [InlineData(1 << 20, "1MiB")]
    public void ByteSize_prints_the_shortest_exact_form(long bytes, string text) => Assert.Equal(text, new ByteSize(bytes).ToString());

    [Theory]
    [InlineData("10", 10_000)]
    [InlineData("0.5", 500)]
    [InlineData("250ms", 250)]
    [InlineData("2s", 2_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0", 0)]
    public void Duration_parses_seconds_and_units(string text, double milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var duration));
        Assert.Equal(milliseconds, duration.Value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("5 parsecs")]
    [InlineData("1e309")]
    [InlineData("1e3")]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("-NaN")]
    [InlineData("NaNms")]
    [InlineData("NaN h")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("∞")]
    [InlineData("1.2.3")]
    [InlineData(".")]
    [InlineData("+5")]
    [InlineData("99999999999999999999999999h")]
    [InlineData("0.00000000001")] // shorter than one tick: it would become 0, which means "off"
    public void Duration_rejects_what_is_not_a_duration(string text) => Assert.False(Duration.TryParse(text, out _));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("10.0.0.10")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("[::1]")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:10.0.0.1")]
    public void IPLiteral_takes_dotted_quads_and_IPv6_literals(string text)
    {
        Assert.True(IPLiteral.TryParse(text, out var address));
        Assert.Equal(System.Net.IPAddress.Parse(text.Trim('[', ']')), address);
    }

    [Theory]
    [InlineData("0x10")] // 0.0.0.16 to inet_aton
    [InlineData("127.1")] // 127.0.0.1 to inet_aton
    [InlineData("1")]
    [InlineData("000")]
    [InlineData("10.1.1")]
    [InlineData("010.0.0.1")] // octal to inet_aton: 8.0.0.1
    [InlineData("0x7f.0.0.1")]
    [InlineData("256.0.0.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.")]
    [InlineData("1,000")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("localhost")]
    [InlineData("4294967295")]
    public void IPLiteral_refuses_the_legacy_numeric_forms(string text) => Assert.False(IPLiteral.TryParse(text, out _));
}
