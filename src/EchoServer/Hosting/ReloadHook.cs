using EchoServer.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoServer.Hosting;

/// <summary>
/// What SIGHUP does, as daemons under systemd do (<c>systemctl reload</c>): reload what can be reloaded, one line
/// each, and go on serving; with nothing reloadable it says so. A new file that cannot be used is one warning
/// saying why; a reload that throws is contained and logged as any background failure is
/// (<see cref="BackgroundFaults"/>); either way the server goes on with what it had.
/// </summary>
internal sealed class ReloadHook(IEnumerable<IReloadable> reloadables, ILogger logger)
{
    private readonly IReadOnlyList<IReloadable> _reloadables = [.. reloadables];

    /// <summary>Reloads everything registered; <paramref name="requests"/> is how many SIGHUP this run answers.</summary>
    public void Run(long requests)
    {
        if (_reloadables.Count == 0)
        {
            ServerLog.NothingToReload(logger, requests);
            return;
        }

        foreach (var reloadable in _reloadables)
        {
            if (reloadable.TryReload(out string said))
            {
                ServerLog.Reloaded(logger, reloadable.Name, said, requests);
            }
            else
            {
                ServerLog.ReloadRefused(logger, reloadable.Name, said, requests);
            }
        }
    }
}
