using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>--pid-file never replaces or deletes anything but a regular file, and leaves nothing behind when it cannot write.</summary>
public sealed class PidFileTests : IDisposable
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(30);

    private readonly string _folder = Directory.CreateTempSubdirectory("echo-server-pid-").FullName;

    [SkippableFact]
    public async Task A_device_node_is_refused_with_one_line_and_exit_code_2_and_left_as_it_was()
    {
        string device = await MakeFakeNullAsync();

        using var server = ServerProcess.Start("--port", "0", "--pid-file", device);

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal($"echo-server: --pid-file {device} is a character device; it takes the path of a regular file, or of one to create.", Assert.Single(server.Stderr));
        Assert.Empty(server.Stdout);
        Assert.Equal("character special file", await FileTypeAsync(device));
        Assert.Equal(["fakenull"], Directory.GetFileSystemEntries(_folder).Select(Path.GetFileName));
    }

    [SkippableFact]
    public async Task A_symbolic_link_to_a_device_node_is_refused_and_both_are_left_as_they_were()
    {
        string device = await MakeFakeNullAsync();
        string link = Path.Combine(_folder, "echo-server.pid");
        File.CreateSymbolicLink(link, device);

        using var server = ServerProcess.Start("--port", "0", "--pid-file", link);

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal($"echo-server: --pid-file {link} ({device}) is a character device; it takes the path of a regular file, or of one to create.", Assert.Single(server.Stderr));
        Assert.Equal("character special file", await FileTypeAsync(device));
        Assert.Equal("symbolic link", await FileTypeAsync(link));
    }

    [Fact]
    public async Task A_named_pipe_is_refused()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // mkfifo and the message's file type are checked on Linux
        }

        string fifo = Path.Combine(_folder, "echo-server.pid");
        Assert.Equal(0, (await Command.RunAsync("mkfifo", [fifo], TimeSpan.FromSeconds(10)))?.ExitCode);

        using var server = ServerProcess.Start("--port", "0", "--pid-file", fifo);

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal($"echo-server: --pid-file {fifo} is a named pipe; it takes the path of a regular file, or of one to create.", Assert.Single(server.Stderr));
        Assert.Equal("fifo", await FileTypeAsync(fifo));
    }

    [Fact]
    public async Task A_file_another_process_has_taken_over_is_left_at_exit()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        string path = Path.Combine(_folder, "echo-server.pid");
        using var server = ServerProcess.Start("--port", "0", "--pid-file", path);
        await server.WaitForListeningAsync();
        Assert.Equal($"{server.Id}\n", await File.ReadAllTextAsync(path));
        await File.WriteAllTextAsync(path, "1\n"); // a newer instance wrote its own id

        server.Terminate();

        Assert.Equal(0, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal("1\n", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task A_symbolic_link_to_a_regular_file_is_followed_and_kept()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a Unix signal
        }

        string target = Path.Combine(_folder, "real.pid");
        await File.WriteAllTextAsync(target, "stale\n");
        string link = Path.Combine(_folder, "echo-server.pid");
        File.CreateSymbolicLink(link, "real.pid");
        using var server = ServerProcess.Start("--port", "0", "--pid-file", link);
        await server.WaitForListeningAsync();

        Assert.Equal($"{server.Id}\n", await File.ReadAllTextAsync(target));
        Assert.Equal("real.pid", new FileInfo(link).LinkTarget);
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(ExitWithin));
        Assert.False(File.Exists(target), "the pid file is still there after a clean exit");
        Assert.Equal("real.pid", new FileInfo(link).LinkTarget);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/tmp")]
    [InlineData("{folder}")]
    [InlineData("{folder}/")]
    public async Task A_directory_is_refused_with_one_line_and_exit_code_2(string path)
    {
        path = path.Replace("{folder}", _folder, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_folder, "keep"), "kept");

        using var server = ServerProcess.Start("--port", "0", "--pid-file", path);

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal($"echo-server: --pid-file {path} is a directory; it takes the path of a regular file, or of one to create.", Assert.Single(server.Stderr));
        Assert.Empty(server.Stdout);
        Assert.True(Directory.Exists(path));
        Assert.Equal(["keep"], Directory.GetFileSystemEntries(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task An_empty_path_is_refused_with_one_line_and_exit_code_2()
    {
        using var server = ServerProcess.Start("--port", "0", "--pid-file", "");

        Assert.Equal(2, await server.WaitForExitAsync(ExitWithin));
        Assert.Equal("echo-server: --pid-file takes a file path (got ''). See --help.", Assert.Single(server.Stderr));
    }

    [SkippableFact]
    public async Task A_full_file_system_leaves_no_staging_file_behind()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "a tmpfs mount is Linux's");
        var mounted = await Command.RunAsync("mount", ["-t", "tmpfs", "-o", "size=8k", "tmpfs", _folder], TimeSpan.FromSeconds(10));
        Skip.If(mounted is not { ExitCode: 0 }, $"mounting a small tmpfs is not permitted here (it needs root): {mounted?.Stderr.Trim()}");
        try
        {
            Fill(Path.Combine(_folder, "fill"));
            string path = Path.Combine(_folder, "echo-server.pid");

            using var server = ServerProcess.Start("--port", "0", "--pid-file", path);

            Assert.Equal(1, await server.WaitForExitAsync(ExitWithin));
            Assert.StartsWith($"echo-server: cannot write --pid-file {path}: No space left on device", Assert.Single(server.Stderr), StringComparison.Ordinal);
            Assert.Equal(["fill"], Directory.GetFileSystemEntries(_folder).Select(Path.GetFileName));
        }
        finally
        {
            await Command.RunAsync("umount", [_folder], TimeSpan.FromSeconds(10));
        }
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A private stand-in for /dev/null in the test's folder (same major and minor numbers): never the machine's own.</summary>
    private async Task<string> MakeFakeNullAsync()
    {
        string device = Path.Combine(_folder, "fakenull");
        var made = await Command.RunAsync("mknod", [device, "c", "1", "3"], TimeSpan.FromSeconds(10));
        Skip.If(made is not { ExitCode: 0 }, $"mknod is not permitted here (it needs root or CAP_MKNOD): {made?.Stderr.Trim()}");
        return device;
    }

    private static void Fill(string path)
    {
        // Unbuffered, so that the write that finds the disk full fails here and not again when the file is closed.
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[1024];
        try
        {
            for (int i = 0; i < 1024; i++)
            {
                file.Write(block);
            }
        }
        catch (IOException)
        {
            return; // full
        }

        Assert.Fail("the 8 KiB tmpfs took 1 MiB");
    }

    /// <summary>What <c>stat</c> calls the file: "character special file", "directory", "regular file", "fifo", "symbolic link".</summary>
    private static async Task<string> FileTypeAsync(string path)
    {
        var result = await Command.RunAsync("stat", ["-c", "%F", path], TimeSpan.FromSeconds(10));
        Assert.True(result is { ExitCode: 0 }, $"stat {path}: {result?.Stderr}");
        return result!.Stdout.Trim();
    }
}
