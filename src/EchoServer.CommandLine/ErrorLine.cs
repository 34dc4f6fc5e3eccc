namespace EchoServer.CommandLine;

/// <summary>Writes a program's one-line error message.</summary>
internal static class ErrorLine
{
    /// <summary>
    /// Writes <paramref name="line"/> to <paramref name="error"/>. A stderr that cannot take it (a full disk,
    /// <c>2&gt;/dev/full</c>) loses the line, not the exit code: a usage error must still end with its own code.
    /// </summary>
    public static async Task WriteAsync(TextWriter error, string line)
    {
        try
        {
            await error.WriteLineAsync(line);
            await error.FlushAsync();
        }
        catch (IOException)
        {
            // Nowhere left to say it; the exit code still does.
        }
    }
}
