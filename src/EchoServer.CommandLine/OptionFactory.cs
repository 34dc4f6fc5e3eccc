using System.Globalization;
using System.CommandLine;
using System.CommandLine.Parsing;

namespace EchoServer.CommandLine;

/// <summary>Options with the validation and messages both command lines (echo-server, echo-load) share.</summary>
internal static class OptionFactory
{
    /// <summary>
    /// The longest duration any option takes. Timers, Task.Delay and WaitAsync refuse waits beyond 2^32-2 ms
    /// (about 49.7 days) by throwing; 49 days also leaves room for the host's drain allowance on top.
    /// </summary>
    public static readonly TimeSpan LongestDuration = TimeSpan.FromDays(49);

    /// <summary>An integer option that must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> Ranged(Option<int> option, int min, int max)
    {
        option.CustomParser = r => ParseInteger(r, option.Name, min, max) ?? default;
        return option;
    }

    /// <summary>An optional integer option that, when given, must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int?> RangedOptional(Option<int?> option, int min, int max)
    {
        option.CustomParser = r => ParseInteger(r, option.Name, min, max);
        return option;
    }

    /// <summary>A string option limited to <paramref name="values"/>.</summary>
    public static Option<string> Choice(Option<string> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    /// <summary>A duration option: seconds, or a number with ms, s, m or h.</summary>
    public static Option<Duration> Duration(string name, string description, TimeSpan defaultValue, string? alias = null)
    {
        var option = alias is null ? new Option<Duration>(name) : new Option<Duration>(name, alias);
        option.Description = description;
        option.DefaultValueFactory = _ => new Duration(defaultValue);
        option.CustomParser = r =>
        {
            string token = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
            if (!CommandLine.Duration.TryParse(token, out var duration))
            {
                r.AddError($"{name} takes a duration such as 10, 500ms, 2s or 1m (got '{token}').");
            }
            else if (duration.Value > LongestDuration)
            {
                r.AddError($"{name} takes at most {LongestDuration.TotalHours:0}h ({LongestDuration.TotalDays:0} days), the longest a timer can wait (got '{token}').");
            }

            return duration;
        };
        return option;
    }

    /// <summary>A probability option: a number from 0 to 1 (<c>0.05</c>).</summary>
    public static Option<double> Probability(string name, string description, double defaultValue)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = r =>
        {
            string token = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;

            // Digits and a point only: double.TryParse also takes "NaN" and "Infinity".
            if (token.Length == 0 || token.AsSpan().ContainsAnyExcept("0123456789.") || token.AsSpan().Count('.') > 1
                || !double.TryParse(token, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value > 1)
            {
                r.AddError($"{name} takes a probability from 0 to 1 such as 0.05 (got '{token}').");
                return defaultValue;
            }

            return value;
        };
        return option;
    }

    /// <summary>Parses a size token for <paramref name="r"/>, adding an error when it is not one or out of range.</summary>
    public static ByteSize ParseSize(ArgumentResult r, long min, long max, string examples)
    {
        string token = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
        string name = (r.Parent as OptionResult)?.Option.Name ?? "size";
        if (!ByteSize.TryParse(token, out var size) || size.Bytes < min || size.Bytes > max)
        {
            r.AddError($"{name} takes a size from {new ByteSize(min)} to {new ByteSize(max)} such as {examples} (got '{token}').");
        }

        return size;
    }

    /// <summary>
    /// Parses the token ourselves: a validator that reads a value which failed to convert makes the parser
    /// throw, so a non-integer must be reported here, as an error, like any other bad value.
    /// </summary>
    private static int? ParseInteger(ArgumentResult r, string name, int min, int max)
    {
        string token = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
        if (!int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            r.AddError($"{name} takes a whole number from {min} to {max} (got '{token}').");
            return null;
        }

        if (value < min || value > max)
        {
            r.AddError($"{name} must be between {min} and {max} (got {value}).");
            return null;
        }

        return value;
    }
}
