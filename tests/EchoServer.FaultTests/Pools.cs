using EchoServer.Pools;

namespace EchoServer.FaultTests;

/// <summary>Every fault test runs against both pools.</summary>
public static class Pools
{
    public static TheoryData<string> Both => new() { "workers", "executor" };

    internal static PoolKind Kind(string pool) => pool == "workers" ? PoolKind.Workers : PoolKind.Executor;
}
