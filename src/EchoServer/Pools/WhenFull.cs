namespace EchoServer.Pools;

/// <summary>What a pool does with a new arrival when every slot is busy and the queue is full.</summary>
internal enum WhenFull
{
    /// <summary>Refuse the new arrival at once.</summary>
    Reject,

    /// <summary>Make the arrival wait until the queue has room (backpressure).</summary>
    Wait,

    /// <summary>Refuse the arrival that has waited longest and queue the new one.</summary>
    DropOldest,
}

/// <summary>The one spelling of each <see cref="WhenFull"/>, as <c>--when-full</c> takes it.</summary>
internal static class WhenFullNames
{
    private static readonly string[] Names = ["reject", "wait", "drop-oldest"];

    public static string ToName(this WhenFull whenFull) => Names[(int)whenFull];

    public static IReadOnlyList<string> All => Names;

    public static WhenFull Parse(string name) => (WhenFull)Math.Max(0, Array.IndexOf(Names, name));
}
