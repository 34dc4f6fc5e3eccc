using System.Globalization;

namespace EchoServer.CommandLine;

/// <summary>A time span written as seconds (<c>10</c>, <c>0.5</c>) or with a unit: <c>250ms</c>, <c>10s</c>, <c>5m</c>, <c>1h</c>.</summary>
internal readonly record struct Duration(TimeSpan Value)
{
    private static readonly (string Suffix, double Seconds)[] Units =
    [
        ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600),
    ];

    private static readonly System.Buffers.SearchValues<char> DecimalChars = System.Buffers.SearchValues.Create("0123456789.");

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

        // Digits and one decimal point only: double.TryParse also takes "NaN", "-NaN" and "Infinity" whatever the
        // number styles say, and TimeSpan throws on those.
        if (span.IsEmpty || span.ContainsAnyExcept(DecimalChars) || span.Count('.') > 1
            || !double.TryParse(span, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number)
            || !double.IsFinite(number * unit) || number * unit > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        var value = TimeSpan.FromSeconds(number * unit);

        // A wait shorter than one tick would become 0, which means "off" for every duration option.
        if (value == TimeSpan.Zero && number != 0)
        {
            return false;
        }

        duration = new Duration(value);
        return true;
    }

    public override string ToString() => Value.TotalMilliseconds switch
    {
        0 => "0",
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{Value.TotalMilliseconds:0.###}ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Value.TotalSeconds:0.###}s"),
    };
}
