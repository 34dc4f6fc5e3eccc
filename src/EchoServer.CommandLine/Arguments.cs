using System.CommandLine;

namespace EchoServer.CommandLine;

/// <summary>How both programs parse their arguments.</summary>
internal static class Arguments
{
    /// <summary>
    /// Parses <paramref name="args"/> without response files: with them, any <c>@path</c> argument is replaced by
    /// the file's lines, so a mistyped value would read a file and echo its first line in an error message.
    /// </summary>
    public static ParseResult Parse(Command root, IReadOnlyList<string> args) =>
        root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
}
