using System.Runtime.InteropServices;

namespace EchoServer.Hosting;

/// <summary>
/// Counts Ctrl+C (SIGINT) and SIGTERM next to the host's console lifetime, which turns the first into a stop
/// and ignores the rest: from the second on, <c>onRepeat</c> runs, so an impatient operator can cut the drain
/// delay short.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;
    private int _count;

    public StopSignals(Action onRepeat)
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];

        void Handle(PosixSignalContext context)
        {
            context.Cancel = true; // the host's lifetime stops the process; the default action would kill it mid-drain
            if (Interlocked.Increment(ref _count) > 1)
            {
                onRepeat();
            }
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
