using System.Globalization;

namespace EchoServer.LoadTest;

/// <summary>One live line on a terminal, rewritten in place; plain periodic lines when output is redirected.</summary>
internal sealed class ProgressPrinter(TextWriter output, bool interactive)
{
    private bool _wroteLive;

    public void Print(ProgressSample sample)
    {
        var c = CultureInfo.InvariantCulture;
        string remaining = sample.Remaining is { } left ? string.Create(c, $"{left.TotalSeconds,6:F1} s left") : "   ? s left";
        string line = string.Create(
            c,
            $"[{sample.Elapsed.TotalSeconds,6:F1} s, {remaining}] {sample.MessagesPerSecond,10:N0} msg/s {sample.MiBPerSecond,9:F2} MiB/s  p99 {sample.P99Microseconds,9:F1} µs  messages {sample.Messages:N0}{(sample.Connects > 0 ? string.Create(c, $"  connections {sample.Connects:N0}") : string.Empty)}  errors {sample.Errors:N0}");
        if (interactive)
        {
            output.Write("\r" + line.PadRight(Math.Max(line.Length, 140)));
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
