namespace EchoServer.Pools;

/// <summary>What the admission queue did with an arrival.</summary>
internal enum AdmissionKind
{
    /// <summary>A slot was free and nobody waited: the arrival runs now, on the caller's side.</summary>
    Granted,

    /// <summary>The arrival waits in the queue; the grant or refuse callback tells how it goes on.</summary>
    Queued,

    /// <summary>The arrival was refused; no callback is called for it.</summary>
    Refused,
}

/// <summary>The answer to one arrival: its kind, the reason when refused, and its ticket (to withdraw it) while queued.</summary>
internal readonly record struct Admission<T>(AdmissionKind Kind, CloseReason Reason = CloseReason.Shutdown, AdmissionQueue<T>.Ticket? Ticket = null)
    where T : class
{
    public static Admission<T> Granted { get; } = new(AdmissionKind.Granted);

    public static Admission<T> Refused(CloseReason reason) => new(AdmissionKind.Refused, reason);

    public static Admission<T> Queued(AdmissionQueue<T>.Ticket ticket) => new(AdmissionKind.Queued, Ticket: ticket);
}
