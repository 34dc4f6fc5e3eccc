namespace EchoServer.LoadTest;

/// <summary>One progress reading: what happened in the last interval and in all so far.</summary>
internal readonly record struct ProgressSample(TimeSpan Elapsed, double MessagesPerSecond, double P99Microseconds, long Messages, long Errors, long Connects);
