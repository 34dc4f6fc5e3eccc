using System.CommandLine;
using System.CommandLine.Parsing;

namespace EchoServer.Cli;

/// <summary>Options with the validation and messages both command lines (echo-server, echo-load) share.</summary>
internal static class OptionFactory
{
    /// <summary>An integer option that must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> Ranged(Option<int> option, int min, int max)
    {
        option.Validators.Add(r =>
        {
            int value = r.GetValueOrDefault<int>();
            if (value < min || value > max)
            {
                r.AddError($"{option.Name} must be between {min} and {max} (got {value}).");
            }
        });
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
            if (!Cli.Duration.TryParse(token, out var duration))
            {
                r.AddError($"{name} takes a duration such as 10, 500ms, 2s or 1m (got '{token}').");
            }

            return duration;
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
}
