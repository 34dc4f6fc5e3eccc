using ScottPlot;

namespace EchoServer.LoadTest;

/// <summary>
/// One colour per server in every chart of every script: a series is coloured by the server or pool it names
/// (<c>server=</c> or <c>pool=</c>, or the series itself), not by its place in one chart, so that the executor is
/// the same orange in the load test, the benchmark and the idle-memory chart.
/// </summary>
internal static class SeriesColors
{
    private static readonly Dictionary<string, Color> Servers = new(StringComparer.Ordinal)
    {
        ["workers"] = new(0x1f, 0x77, 0xb4),
        ["workers-aot"] = new(0x6b, 0xae, 0xd6),
        ["executor"] = new(0xff, 0x7f, 0x0e),
        ["executor-aot"] = new(0xfd, 0xb8, 0x63),
        ["executor-threadpool"] = new(0xd6, 0x27, 0x28),
        ["c-epoll"] = new(0x2c, 0xa0, 0x2c),
        ["c-uring"] = new(0x98, 0xdf, 0x8a),
        ["kestrel"] = new(0x94, 0x67, 0xbd),
        ["go"] = new(0x17, 0xbe, 0xcf),
        ["py-executor"] = new(0x8c, 0x56, 0x4b),
        ["py-queue"] = new(0xe3, 0x77, 0xc2),
    };

    /// <summary>Colours for series that name no known server, chosen by a stable hash of the name.</summary>
    private static readonly Color[] Others = [new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x39, 0x3b, 0x79), new(0x84, 0x3c, 0x39)];

    /// <summary>The server a series stands for: its <c>server=</c> or <c>pool=</c> label, or the series itself.</summary>
    public static string ServerOf(string series)
    {
        foreach (var part in series.Split(' '))
        {
            if (part.StartsWith("server=", StringComparison.Ordinal) || part.StartsWith("pool=", StringComparison.Ordinal))
            {
                return part[(part.IndexOf('=', StringComparison.Ordinal) + 1)..];
            }
        }

        return series;
    }

    /// <summary>
    /// The colour of each series of one chart: its server's, lighter for each further configuration of the same
    /// server in the chart (workers=128, then workers=1000).
    /// </summary>
    public static IReadOnlyDictionary<string, Color> For(IReadOnlyList<string> series)
    {
        var colours = new Dictionary<string, Color>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in series)
        {
            string server = ServerOf(s);
            int variant = seen.GetValueOrDefault(server);
            seen[server] = variant + 1;
            var colour = Servers.TryGetValue(server, out var known) ? known : Others[StableHash(server) % Others.Length];
            colours[s] = variant == 0 ? colour : colour.Lighten(Math.Min(0.25 * variant, 0.75));
        }

        return colours;
    }

    private static int StableHash(string text)
    {
        int hash = 17;
        foreach (char ch in text)
        {
            hash = unchecked((hash * 31) + ch);
        }

        return hash & int.MaxValue;
    }
}
