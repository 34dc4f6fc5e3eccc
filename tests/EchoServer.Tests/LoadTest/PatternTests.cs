using EchoServer.LoadTest;

namespace EchoServer.Tests.LoadTest;

public sealed class PatternTests
{
    [Fact]
    public void What_was_sent_verifies_at_any_offset_and_across_the_wrap()
    {
        int phase = Pattern.PhaseOf(3);
        foreach (long offset in new long[] { 0, 1, Pattern.Period - 10, Pattern.Period, (5L * Pattern.Period) + 17 })
        {
            var sent = Collect(phase, offset, 3 * Pattern.Period / 2);
            Assert.Equal(-1, Pattern.FindMismatch(phase, offset, sent));
        }
    }

    [Fact]
    public void A_flipped_byte_is_found_where_it_is()
    {
        int phase = Pattern.PhaseOf(1);
        var sent = Collect(phase, 1000, 5000);
        sent[4321] ^= 0x01;

        Assert.Equal(4321, Pattern.FindMismatch(phase, 1000, sent));
    }

    [Fact]
    public void Bytes_of_another_connection_or_a_shifted_offset_do_not_verify()
    {
        var first = Collect(Pattern.PhaseOf(1), 0, 64);

        Assert.NotEqual(-1, Pattern.FindMismatch(Pattern.PhaseOf(2), 0, first));
        Assert.NotEqual(-1, Pattern.FindMismatch(Pattern.PhaseOf(1), 1, first));
    }

    private static byte[] Collect(int phase, long offset, int count)
    {
        var bytes = new byte[count];
        for (int done = 0; done < count;)
        {
            var slice = Pattern.Slice(phase, offset + done, count - done);
            slice.Span.CopyTo(bytes.AsSpan(done));
            done += slice.Length;
        }

        return bytes;
    }
}
