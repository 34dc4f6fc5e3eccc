using System.Runtime.CompilerServices;

namespace EchoServer.IoUring;

/// <summary>Awaited to go on running on a ring's thread: at once when already there, else posted to it.</summary>
internal readonly struct LoopSwitch(RingLoop loop) : ICriticalNotifyCompletion
{
    public bool IsCompleted => loop.OnLoopThread;

    public LoopSwitch GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) => loop.Post(static c => ((Action)c!)(), continuation);

    public void UnsafeOnCompleted(Action continuation) => OnCompleted(continuation);
}
