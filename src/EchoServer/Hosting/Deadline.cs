namespace EchoServer.Hosting;

/// <summary>Waiting for a task with a deadline, as the drain does.</summary>
internal static class Deadline
{
    /// <summary>True when <paramref name="task"/> completes within <paramref name="timeout"/>; false on timeout or cancellation.</summary>
    public static async Task<bool> CompletesWithinAsync(this Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }
}
