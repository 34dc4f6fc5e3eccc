using System.Globalization;

namespace EchoServer.CommandLine;

/// <summary>A time span written as seconds (<c>10</c>, <c>0.5</c>) or with a unit: <c>250ms</c>, <c>10s</c>, <c>5m</c>, <c>1h</c>.</summary>
internal readonly record struct Duration(TimeSpan Value)
{
    private static readonly (string Suffix, double Seconds)[] Units =
    [
        ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600),
    ];

    public static bool TryParse(string? text, out Duration duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        double unit = 1;
        foreach (var (suffix, seconds) in Units)
        {
            if (span.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                span = span[..^suffix.Length].TrimEnd();
                unit = seconds;
                break;
            }
        }

        if (!double.TryParse(span, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number)
            || double.IsInfinity(number * unit) || number * unit > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        duration = new Duration(TimeSpan.FromSeconds(number * unit));
        return true;
    }

    public override string ToString() => Value.TotalMilliseconds switch
    {
        0 => "0",
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{Value.TotalMilliseconds:0.###}ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Value.TotalSeconds:0.###}s"),
    };
}
