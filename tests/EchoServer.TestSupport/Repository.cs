namespace EchoServer.TestSupport;

/// <summary>Where the repository is, for tests that run its scripts, read its README or pack its projects.</summary>
internal static class Repository
{
    private static readonly Lazy<string> RootFolder = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EchoServer.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no EchoServer.sln above {AppContext.BaseDirectory}");
    });

    /// <summary>The folder that holds EchoServer.sln.</summary>
    public static string Root => RootFolder.Value;
}
