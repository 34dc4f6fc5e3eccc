using EchoServer.Pools;
using FsCheck;
using FsCheck.Fluent;

namespace EchoServer.Tests.Pools;

/// <summary>
/// Model-based: random sequences of arrivals (new and returning), releases, withdrawals, cancellations, time
/// passing (queue timeouts), and completion, run on the real <see cref="AdmissionQueue{T}"/> and on
/// <see cref="AdmissionQueueModel"/>, single-threaded on a <see cref="ManualClock"/>, so a sequence always does
/// the same. After every step every answer, grant, refusal and wait must be the model's, and the load and the
/// queue's contents too; the queue checks its own invariants under its lock on every change. FsCheck shrinks a
/// failing sequence to a short one and prints it with its seed.
/// </summary>
public sealed class AdmissionQueueModelTests
{
    // Up to 100 steps each (FsCheck grows the size from 0 to 100): about 3 s on a busy 2-core machine.
    private const int Sequences = 1000;

    private enum StepKind
    {
        Arrive,
        Rejoin,
        Release,
        Withdraw,
        Cancel,
        Advance,
        Complete,
    }

    [Fact]
    public void Every_sequence_of_operations_does_what_the_reference_model_does()
    {
        var property = Prop.ForAll(Arb.From(Scenarios(), Shrink), (Scenario scenario) => scenario.Run());
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Sequences).WithQuietOnSuccess(true), property);
    }

    private static Gen<Scenario> Scenarios()
    {
        var step = Gen.Frequency(
            (12, Gen.Constant(new Step(StepKind.Arrive, 0))),
            (8, Gen.Constant(new Step(StepKind.Rejoin, 0))),
            (12, Gen.Constant(new Step(StepKind.Release, 0))),
            (4, Gen.Choose(0, 7).Select(i => new Step(StepKind.Withdraw, i))),
            (4, Gen.Choose(0, 7).Select(i => new Step(StepKind.Cancel, i))),
            (8, Gen.Choose(1, 30).Select(ms => new Step(StepKind.Advance, ms))),
            (1, Gen.Constant(new Step(StepKind.Complete, 0))));
        return Gen.Choose(1, 3).SelectMany(
            slots => Gen.Choose(1, 3).SelectMany(
                capacity => Gen.Elements(WhenFull.Reject, WhenFull.Wait, WhenFull.DropOldest).SelectMany(
                    whenFull => Gen.Elements(0, 10, 25).SelectMany(
                        timeoutMs => Gen.ListOf(step).Select(steps => new Scenario(slots, capacity, whenFull, timeoutMs, [.. steps]))))));
    }

    // Any subsequence is a valid sequence (a step that finds nothing to act on does nothing): drop halves, then single steps.
    private static IEnumerable<Scenario> Shrink(Scenario s)
    {
        int n = s.Steps.Length;
        if (n > 1)
        {
            yield return s with { Steps = s.Steps[..(n / 2)] };
            yield return s with { Steps = s.Steps[(n / 2)..] };
        }

        for (int i = 0; i < n; i++)
        {
            yield return s with { Steps = [.. s.Steps[..i], .. s.Steps[(i + 1)..]] };
        }

        if (s.Slots > 1)
        {
            yield return s with { Slots = s.Slots - 1 };
        }

        if (s.Capacity > 1)
        {
            yield return s with { Capacity = s.Capacity - 1 };
        }
    }

    private readonly record struct Step(StepKind Kind, int Arg)
    {
        public override string ToString() => Kind switch
        {
            StepKind.Withdraw or StepKind.Cancel => $"{Kind}({Arg})",
            StepKind.Advance => $"Advance({Arg}ms)",
            _ => Kind.ToString(),
        };
    }

    private sealed record Scenario(int Slots, int Capacity, WhenFull WhenFull, int TimeoutMs, Step[] Steps)
    {
        public override string ToString() =>
            $"slots={Slots} queue={Capacity} when-full={WhenFull.ToName()} queue-timeout={TimeoutMs}ms: {string.Join(", ", Steps)}";

        public void Run()
        {
            using var run = new Run(this);
            for (int i = 0; i < Steps.Length; i++)
            {
                run.Do(Steps[i], i);
            }
        }
    }

    /// <summary>One sequence on the real queue and on the model side by side.</summary>
    private sealed class Run : IDisposable
    {
        private readonly ManualClock _clock = new();
        private readonly AdmissionQueue<string> _queue;
        private readonly AdmissionQueueModel _model;
        private readonly List<string> _decisions = [];
        private readonly List<TimeSpan> _waits = [];
        private readonly List<string> _heldAnswers = [];
        private readonly List<(string Id, AdmissionQueue<string>.Ticket Ticket)> _tickets = [];
        private readonly List<(string Id, Task<Admission<string>> Answer)> _pending = [];
        private readonly List<(string Id, CancellationTokenSource Cancel)> _cancellable = [];
        private int _arrivals;

        public Run(Scenario s)
        {
            var settings = new PoolSettings { Workers = s.Slots, QueueCapacity = s.Capacity, WhenFull = s.WhenFull, QueueTimeout = TimeSpan.FromMilliseconds(s.TimeoutMs) };
            _queue = new AdmissionQueue<string>(
                s.Slots,
                settings,
                id => _decisions.Add($"granted {id}"),
                (id, reason) => _decisions.Add($"refused {id} {reason.ToName()}"),
                _waits.Add,
                _clock);
            _model = new AdmissionQueueModel(s.Slots, s.Capacity, s.WhenFull, settings.QueueTimeout);
        }

        public void Do(Step step, int index)
        {
            string where = $"step {index}";
            switch (step.Kind)
            {
                case StepKind.Arrive:
                    Arrive($"n{++_arrivals}", where);
                    break;
                case StepKind.Rejoin:
                    string returning = $"r{++_arrivals}";
                    var admission = _queue.Rejoin(returning, CancellationToken.None);
                    string expected = _model.Rejoin(returning);
                    Expect(expected == Describe(returning, admission), () => $"{where}: {returning} answered {Describe(returning, admission)}, the model says {expected}");
                    break;
                case StepKind.Release when _model.Busy > 0:
                    _queue.Release();
                    _model.Release();
                    break;
                case StepKind.Withdraw when _tickets.Count > 0:
                    var (id, ticket) = _tickets[step.Arg % _tickets.Count];
                    Expect(_model.Withdraw(id) == _queue.TryWithdraw(ticket), () => $"{where}: withdrawing {id} answered otherwise than the model");
                    break;
                case StepKind.Cancel when _cancellable.Count > 0:
                    var (heldId, cancel) = _cancellable[step.Arg % _cancellable.Count];
                    cancel.Cancel();
                    _model.Cancel(heldId);
                    break;
                case StepKind.Advance:
                    _clock.Advance(TimeSpan.FromMilliseconds(step.Arg));
                    _model.Advance(TimeSpan.FromMilliseconds(step.Arg));
                    break;
                case StepKind.Complete:
                    _queue.Complete();
                    _model.Complete();
                    break;
            }

            CollectHeldAnswers();
            Compare(where);
        }

        public void Dispose()
        {
            _queue.Dispose();
            _cancellable.ForEach(c => c.Cancel.Dispose());
        }

        private static string Describe(string id, Admission<string> admission) => admission.Kind switch
        {
            AdmissionKind.Granted => "granted",
            AdmissionKind.Queued when admission.Ticket?.Item == id => "queued",
            AdmissionKind.Queued => "queued with a ticket for someone else",
            _ => $"refused {admission.Reason.ToName()}",
        };

        private void Arrive(string id, string where)
        {
            var cancel = new CancellationTokenSource();
            var answer = _queue.ArriveAsync(id, cancel.Token);
            string expected = _model.Arrive(id);
            if (!answer.IsCompleted)
            {
                Expect(expected == "held", () => $"{where}: {id} held, the model says {expected}");
                _pending.Add((id, answer.AsTask()));
                _cancellable.Add((id, cancel));
                return;
            }

            cancel.Dispose();
            var admission = answer.Result;
            Expect(expected == Describe(id, admission), () => $"{where}: {id} answered {Describe(id, admission)}, the model says {expected}");
            if (admission.Ticket is { } ticket)
            {
                _tickets.Add((id, ticket));
            }
        }

        // A held arrival's answer is set synchronously by the step that admits or refuses it.
        private void CollectHeldAnswers()
        {
            foreach (var (id, answer) in _pending.Where(p => p.Answer.IsCompleted).ToList())
            {
                var admission = answer.Result;
                _heldAnswers.Add($"{id} {Describe(id, admission)}");
                if (admission.Ticket is { } ticket)
                {
                    _tickets.Add((id, ticket));
                }

                _pending.RemoveAll(p => p.Id == id);
            }
        }

        // Messages are built only for a mismatch: a thousand sequences must stay cheap.
        private static void Expect(bool same, Func<string> mismatch)
        {
            if (!same)
            {
                Assert.Fail(mismatch());
            }
        }

        private void Compare(string where)
        {
            var queue = _queue.Snapshot();
            Expect(_model.Decisions.SequenceEqual(_decisions), () => $"{where}: grants and refusals [{string.Join(", ", _decisions)}], the model's [{string.Join(", ", _model.Decisions)}]");
            Expect(_model.Waits.SequenceEqual(_waits), () => $"{where}: waits [{string.Join(", ", _waits)}], the model's [{string.Join(", ", _model.Waits)}]");
            Expect(_model.HeldAnswers.SequenceEqual(_heldAnswers), () => $"{where}: held arrivals answered [{string.Join(", ", _heldAnswers)}], the model's [{string.Join(", ", _model.HeldAnswers)}]");
            Expect(_model.Busy == _queue.Busy, () => $"{where}: busy {_queue.Busy}, the model's {_model.Busy}");
            Expect(_model.Queue.Count == _queue.Waiting, () => $"{where}: waiting {_queue.Waiting}, the model's {_model.Queue.Count}");
            Expect(_model.Queue.SequenceEqual(queue), () => $"{where}: queue [{string.Join(", ", queue)}], the model's [{string.Join(", ", _model.Queue)}]");
            Expect(_model.Now == _clock.Now, () => $"{where}: the clocks differ");
            _decisions.Clear();
            _waits.Clear();
            _heldAnswers.Clear();
            _model.Decisions.Clear();
            _model.Waits.Clear();
            _model.HeldAnswers.Clear();
        }
    }
}
