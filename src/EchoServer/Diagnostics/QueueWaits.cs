namespace EchoServer.Diagnostics;

/// <summary>One interval's p99 queue wait (waits in progress included) and the oldest wait at its end, in milliseconds.</summary>
internal readonly record struct QueueWaits(double P99Ms, double OldestMs);
