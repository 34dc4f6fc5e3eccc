using System.Globalization;

namespace EchoServer.LoadTest;

/// <summary>One live line on a terminal, rewritten in place; plain periodic lines when output is redirected.</summary>
internal sealed class ProgressPrinter(TextWriter output, bool interactive)
{
    private bool _wroteLive;

    public void Print(ProgressSample sample)
    {
        string line = string.Create(
            CultureInfo.InvariantCulture,
            $"[{sample.Elapsed.TotalSeconds,6:F1} s] {sample.MessagesPerSecond,10:N0} msg/s  p99 {sample.P99Microseconds,9:F1} µs  messages {sample.Messages:N0}{(sample.Connects > 0 ? string.Create(CultureInfo.InvariantCulture, $"  connections {sample.Connects:N0}") : string.Empty)}  errors {sample.Errors:N0}");
        if (interactive)
        {
            output.Write("\r" + line.PadRight(Math.Max(line.Length, 110)));
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
