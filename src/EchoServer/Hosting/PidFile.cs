using System.Globalization;

namespace EchoServer.Hosting;

/// <summary>
/// --pid-file: the process id, for scripts and service managers that signal the server. It is written to a
/// staging file before start-up (so that a path that cannot be written is refused before anything binds) and
/// moved into place once the listener is bound, so that the file appearing means the server is listening.
/// It is removed at a clean exit if it still names this process.
/// </summary>
internal sealed class PidFile : IDisposable
{
    private readonly string _path;
    private readonly string _staging;
    private readonly string _content = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n";
    private bool _published;

    private PidFile(string path)
    {
        _path = Path.GetFullPath(path);
        _staging = $"{_path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(_staging, _content);
    }

    /// <summary>Writes the staging file; throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when it cannot.</summary>
    public static PidFile Prepare(string path) => new(path);

    /// <summary>Moves the file into place: call once the listener is bound.</summary>
    public void Publish()
    {
        File.Move(_staging, _path, overwrite: true);
        _published = true;
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_staging);
            if (_published && File.Exists(_path) && File.ReadAllText(_path) == _content)
            {
                File.Delete(_path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Leaving a stale file is better than failing the exit; the next start overwrites it.
        }
    }
}
