namespace EchoServer.LoadTest;

/// <summary>
/// The bytes each connection sends: one shared pseudo-random block of prime length, read from a phase that
/// differs per connection. Any flipped, lost, duplicated or cross-connection byte lands out of phase, and
/// checking is a vectorised compare against the block, with no allocation.
/// </summary>
internal static class Pattern
{
    /// <summary>A prime, so message boundaries drift through the block instead of repeating one slice.</summary>
    public const int Period = 65_521;

    // Twice the period, so any slice of up to one period starting inside the first copy is contiguous.
    private static readonly byte[] Block = CreateBlock();

    /// <summary>The phase connection <paramref name="connection"/> starts at.</summary>
    public static int PhaseOf(long connection) => (int)((connection * 7_919) % Period);

    /// <summary>The expected bytes at stream offset <paramref name="offset"/>, at most <paramref name="count"/> of them (fewer at a wrap).</summary>
    public static ReadOnlyMemory<byte> Slice(int phase, long offset, int count)
    {
        int start = (int)((offset + phase) % Period);
        return Block.AsMemory(start, Math.Min(count, Period));
    }

    /// <summary>Checks received bytes against what was sent at <paramref name="offset"/>; returns the index of the first wrong byte, or -1.</summary>
    public static int FindMismatch(int phase, long offset, ReadOnlySpan<byte> received)
    {
        int checkedSoFar = 0;
        while (checkedSoFar < received.Length)
        {
            var expected = Slice(phase, offset + checkedSoFar, received.Length - checkedSoFar).Span;
            var actual = received.Slice(checkedSoFar, expected.Length);
            if (!actual.SequenceEqual(expected))
            {
                return checkedSoFar + actual.CommonPrefixLength(expected);
            }

            checkedSoFar += expected.Length;
        }

        return -1;
    }

    private static byte[] CreateBlock()
    {
        var block = new byte[Period * 2];
        new Random(862).NextBytes(block.AsSpan(0, Period));
        block.AsSpan(0, Period).CopyTo(block.AsSpan(Period));
        return block;
    }
}
