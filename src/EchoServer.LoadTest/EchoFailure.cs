namespace EchoServer.LoadTest;

/// <summary>Ends one connection's run with a counted error.</summary>
internal sealed class EchoFailure(ErrorKind kind) : Exception(ErrorNames.Of(kind))
{
    public ErrorKind Kind { get; } = kind;
}
