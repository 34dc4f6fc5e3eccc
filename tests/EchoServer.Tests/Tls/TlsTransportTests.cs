using EchoServer.TestSupport;
using EchoServer.Tls;

namespace EchoServer.Tests.Tls;

/// <summary>
/// What a reset loses under TLS: the kernel's unsent bytes are ciphertext, longer than the data and cut anywhere,
/// so the echoed count takes back every write whose records did not all leave, never a byte less.
/// </summary>
public sealed class TlsTransportTests
{
    [Fact]
    public async Task Unsent_ciphertext_takes_back_the_writes_it_touches_whole_not_its_own_length()
    {
        var (client, accepted) = LoopbackPair.Connect();
        using var _ = client;
        using var __ = accepted;
        await using var transport = new TlsTransport(accepted, preread: null);

        // Three writes of 100 B of data, each 122 B on the wire (a TLS 1.3 record's 22 B of overhead).
        for (int i = 0; i < 3; i++)
        {
            transport.Write(new byte[122]);
            transport.Sent(100);
        }

        Assert.Equal(0, transport.Undelivered(0));
        Assert.Equal(100, transport.Undelivered(1)); // the last record is cut: its 100 B cannot be read
        Assert.Equal(100, transport.Undelivered(122));
        Assert.Equal(200, transport.Undelivered(123)); // one byte of the second record too
        Assert.Equal(300, transport.Undelivered(366));
    }

    [Fact]
    public async Task Past_the_writes_it_remembers_it_still_takes_back_at_least_what_was_unsent()
    {
        var (client, accepted) = LoopbackPair.Connect();
        using var _ = client;
        using var __ = accepted;
        await using var transport = new TlsTransport(accepted, preread: null);

        for (int i = 0; i < 100; i++)
        {
            transport.Write(new byte[122]);
            transport.Sent(100);
        }

        // 80 records unsent, more than the last 32 writes it keeps: an upper bound, at least the 80 writes' data.
        int undelivered = transport.Undelivered(80 * 122);
        Assert.InRange(undelivered, 80 * 100, 10_000);
    }
}
