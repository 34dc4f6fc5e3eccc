using System.Globalization;

namespace EchoServer.LoadTest;

/// <summary>
/// One live line on a terminal, rewritten in place and cut to the terminal's width (a line that wraps would
/// leave a copy on every rewrite); plain periodic lines when output is redirected.
/// </summary>
/// <param name="output">Where the line goes (stderr).</param>
/// <param name="interactive">True on a terminal: the line is rewritten in place.</param>
/// <param name="width">The terminal's width in columns now (it may change while the run goes on); 0 when unknown.</param>
internal sealed class ProgressPrinter(TextWriter output, bool interactive, Func<int>? width = null)
{
    /// <summary>The width assumed when the terminal does not say.</summary>
    private const int DefaultWidth = 80;

    private bool _wroteLive;
    private int _lastLength;

    public void Print(ProgressSample sample)
    {
        var c = CultureInfo.InvariantCulture;
        string remaining = sample.Remaining is { } left ? string.Create(c, $"{left.TotalSeconds,6:F1} s left") : "   ? s left";
        string line = string.Create(
            c,
            $"[{sample.Elapsed.TotalSeconds,6:F1} s, {remaining}] {sample.MessagesPerSecond,10:N0} msg/s {sample.MiBPerSecond,9:F2} MiB/s  p99 {sample.P99Microseconds,9:F1} µs  messages {sample.Messages:N0}{(sample.Connects > 0 ? string.Create(c, $"  connections {sample.Connects:N0}") : string.Empty)}  errors {sample.Errors:N0}");
        if (interactive)
        {
            // One column short of the width: a line that fills the last column wraps on some terminals.
            int columns = width?.Invoke() is > 1 and var w ? w : DefaultWidth;
            string shown = line.Length < columns ? line : line[..(columns - 1)];
            output.Write("\r" + shown.PadRight(Math.Min(_lastLength, columns - 1)));
            _lastLength = shown.Length;
            _wroteLive = true;
        }
        else
        {
            output.WriteLine(line);
        }
    }

    public void Finish()
    {
        if (_wroteLive)
        {
            output.WriteLine();
        }
    }
}
