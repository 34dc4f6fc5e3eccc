using System.Runtime.InteropServices;

namespace EchoServer.Pools;

/// <summary>
/// Puts a dedicated worker thread under Linux's SCHED_BATCH policy: the same share of the CPU (nice value
/// unchanged), but a worker woken by its client's bytes waits for the running thread's turn to end instead of
/// preempting it. Thread-per-client wakes a thread per message; without preemption those wake-ups queue up and
/// run back to back (a switch between two threads of this process costs a third of a switch to another
/// process on a virtual machine), and the load's own threads are not cut off mid-burst. A thread started from a
/// worker inherits the policy (the runtime may start a thread-pool thread there): the same share, no preemption.
/// </summary>
internal static partial class WorkerScheduling
{
    private const int SchedBatch = 3;

    /// <summary>Moves the calling thread to SCHED_BATCH; false where the platform has no such policy or refuses it.</summary>
    public static bool TryUseBatchPolicy()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        int priority = 0; // struct sched_param: SCHED_BATCH takes priority 0
        return SchedSetScheduler(0, SchedBatch, in priority) == 0; // pid 0: the calling thread only
    }

    /// <summary>True when the calling thread runs under SCHED_BATCH.</summary>
    public static bool IsBatchPolicy() => OperatingSystem.IsLinux() && SchedGetScheduler(0) == SchedBatch;

    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SchedSetScheduler(int pid, int policy, in int priority);

    [LibraryImport("libc", EntryPoint = "sched_getscheduler", SetLastError = true)]
    private static partial int SchedGetScheduler(int pid);
}
