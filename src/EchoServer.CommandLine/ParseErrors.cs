using System.CommandLine;

namespace EchoServer.CommandLine;

/// <summary>How both programs report a command line they cannot use: the first error, on one line, on stderr.</summary>
internal static class ParseErrors
{
    /// <summary>Writes "<paramref name="program"/>: first error See --help." when <paramref name="result"/> has errors; returns whether it did.</summary>
    public static async Task<bool> ReportAsync(string program, ParseResult result, TextWriter error)
    {
        if (result.Errors.Count == 0)
        {
            return false;
        }

        await ErrorLine.WriteAsync(error, $"{program}: {OneLine(result.Errors[0].Message)} See --help.");
        return true;
    }

    /// <summary>Folds a message onto one line: scripts and log collectors read stderr line by line.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
