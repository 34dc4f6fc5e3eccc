namespace EchoServer.LoadTest;

/// <summary>echo-load's exit codes: scripts tell a clean run from errors, from corruption and from clients left unanswered.</summary>
internal static class LoadExitCodes
{
    /// <summary>Every message verified, no error, every connection answered.</summary>
    public const int Ok = 0;

    /// <summary>Some connects, TLS handshakes or connections failed (refused, reset, timed out, short echo), or a UDP datagram was answered twice; every byte that came back was right.</summary>
    public const int Errors = 1;

    /// <summary>Bad command line.</summary>
    public const int Usage = 2;

    /// <summary>At least one byte came back wrong.</summary>
    public const int Mismatch = 3;

    /// <summary>
    /// No error, but some connections never got a reply (starved in a server's queue, or a server that does not
    /// answer), or a message was still unanswered at the end after <c>--reply-timeout</c>, or a UDP datagram was lost
    /// (unanswered within <c>--reply-timeout</c>). A script that starves
    /// clients on purpose accepts this code, and only this one.
    /// </summary>
    public const int Unanswered = 4;

    /// <summary>The exit codes as <c>--help</c> lists them, the most serious first when several apply.</summary>
    public const string Help = """
        Exit codes (the most serious applies: 3, then 1, then 4):
          0  every connection answered, every byte verified, no error
          1  errors: connects refused or timed out, TLS handshakes failed, resets, short echoes, UDP datagrams
             answered twice (every byte that came back was right)
          2  bad command line
          3  at least one byte came back wrong
          4  no error, but some connections never got a reply, or a message was still unanswered at the end
             after --reply-timeout (a starved queue, a server that does not answer); with --udp, any datagram
             lost (unanswered within --reply-timeout: every one lost is a server that does not answer)
          UDP replies out of order are reported but are no error: UDP does not promise order.
        """;
}
