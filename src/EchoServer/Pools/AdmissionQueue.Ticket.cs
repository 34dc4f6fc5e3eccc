namespace EchoServer.Pools;

internal sealed partial class AdmissionQueue<T>
{
    /// <summary>
    /// One arrival's place: in the queue, or held until the queue has room. An arrival that is queued gets
    /// it back in its <see cref="Admission{T}"/>, to withdraw it with <see cref="TryWithdraw"/>.
    /// </summary>
    internal sealed class Ticket(T item, bool returning, long arrivedAt)
    {
        public T Item { get; } = item;

        /// <summary>Served before: never refused for room nor dropped, and not counted against the capacity.</summary>
        public bool Returning { get; } = returning;

        /// <summary>When the item arrived: a held arrival waits from here, though its queue timeout starts at <see cref="EnqueuedAt"/>.</summary>
        public long ArrivedAt { get; } = arrivedAt;

        public long EnqueuedAt { get; set; }

        /// <summary>Its node in the queue or among the held arrivals; null once it left both.</summary>
        public LinkedListNode<Ticket>? Node { get; set; }

        /// <summary>Its node among the queued newcomers (the ones <see cref="WhenFull.DropOldest"/> may drop).</summary>
        public LinkedListNode<Ticket>? NewcomerNode { get; set; }

        /// <summary>For a held arrival: completes once it is admitted or refused.</summary>
        public TaskCompletionSource<Admission<T>>? Room { get; init; }

        public Admission<T> Admitted { get; set; }

        public CancellationTokenRegistration Cancellation { get; set; }
    }
}
