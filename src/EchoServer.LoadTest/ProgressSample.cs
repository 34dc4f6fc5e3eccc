namespace EchoServer.LoadTest;

/// <summary>
/// One progress reading: what happened in the last interval and in all so far. <paramref name="Remaining"/> is
/// what is left of --duration, or an estimate from the average rate so far with --messages (null until one is known).
/// </summary>
internal readonly record struct ProgressSample(TimeSpan Elapsed, TimeSpan? Remaining, double MessagesPerSecond, double MiBPerSecond, double P99Microseconds, long Messages, long Errors, long Connects);
