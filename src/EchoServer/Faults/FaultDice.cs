namespace EchoServer.Faults;

/// <summary>
/// The random choices of one connection (or of the datagram stream): with a seed, a generator that depends only
/// on the seed and the connection's number, so the same seed and the same order of arrival give the same choices
/// whatever else runs at once; without one, a fresh generator each time.
/// </summary>
internal static class FaultDice
{
    /// <summary>The generator for stream <paramref name="id"/> (a connection's id; 0 for the datagrams).</summary>
    public static Random For(int? seed, long id) => seed is { } s ? new Random(Mix(s, id)) : new Random();

    /// <summary>SplitMix64's finaliser over the seed and the id: neighbouring ids get unrelated seeds (HashCode is randomised per process).</summary>
    private static int Mix(int seed, long id)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)id) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
