namespace EchoServer.LoadTest;

/// <summary>The one spelling of each <see cref="LoadMode"/> a user sees: on the command line, in the report and in its JSON.</summary>
internal static class LoadModeNames
{
    public static string Of(LoadMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>The mode named <paramref name="name"/> (one of <see cref="Of"/>'s names; the command line accepts no other).</summary>
    public static LoadMode Parse(string name) => Enum.GetValues<LoadMode>().Single(m => Of(m) == name);
}
