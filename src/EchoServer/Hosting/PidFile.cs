using System.Globalization;

namespace EchoServer.Hosting;

/// <summary>
/// --pid-file: the process id, for scripts and service managers that signal the server. It is written to a
/// staging file before start-up (so that a path that cannot be written is refused before anything binds) and
/// moved into place once the listener is bound, so that the file appearing means the server is listening.
/// Only a missing path or a regular file is ever replaced (<see cref="PidFileTarget"/>), and the file is removed
/// at a clean exit only if it still names this process.
/// </summary>
internal sealed class PidFile : IDisposable
{
    private readonly string _given;
    private readonly string _path;
    private readonly string _staging;
    private readonly string _content = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n";
    private bool _published;

    private PidFile(string given)
    {
        _given = given;
        _path = PidFileTarget.Resolve(given);
        _staging = $"{_path}.{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllText(_staging, _content);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full file system creates the file, then fails the write: leave nothing behind.
            TryDelete(_staging);
            throw;
        }
    }

    /// <summary>
    /// Writes the staging file; throws <see cref="StartupException"/> when the path names something other than a
    /// regular file, <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when it cannot be written.
    /// </summary>
    public static PidFile Prepare(string path) => new(path);

    /// <summary>Moves the file into place: call once the listener is bound. Throws <see cref="StartupException"/> when that fails.</summary>
    public void Publish()
    {
        try
        {
            // The path was checked at start-up; check again, since something else may have been put there since.
            PidFileTarget.EnsureWritable(_given, _path);
            File.Move(_staging, _path, overwrite: true);
            _published = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"cannot write --pid-file {_given}: {ex.Message}");
        }
    }

    public void Dispose()
    {
        TryDelete(_staging);
        try
        {
            if (_published && PidFileTarget.IsRegularFile(_path) && File.ReadAllText(_path) == _content)
            {
                File.Delete(_path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Leaving a stale file is better than failing the exit; the next start overwrites it.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: a leftover staging file is named after a process id and harmless.
        }
    }
}
