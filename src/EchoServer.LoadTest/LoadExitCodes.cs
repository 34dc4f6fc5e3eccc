namespace EchoServer.LoadTest;

/// <summary>echo-load's exit codes: scripts tell a clean run from errors and from corruption.</summary>
internal static class LoadExitCodes
{
    /// <summary>Every message verified, no error.</summary>
    public const int Ok = 0;

    /// <summary>Some connects or connections failed (refused, reset, timed out, short echo); every byte that came back was right.</summary>
    public const int Errors = 1;

    /// <summary>Bad command line.</summary>
    public const int Usage = 2;

    /// <summary>At least one byte came back wrong.</summary>
    public const int Mismatch = 3;
}
