namespace EchoServer.Cli;

/// <summary>Process exit codes.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int CannotStart = 1;
    public const int Usage = 2;
}
