namespace EchoServer.LoadTest;

/// <summary>What can go wrong with one connection or message, counted separately in the report.</summary>
internal enum ErrorKind
{
    /// <summary>A byte came back different from the one sent.</summary>
    Mismatch,

    /// <summary>The server closed before echoing everything sent.</summary>
    ShortEcho,

    /// <summary>The connection was reset.</summary>
    Reset,

    /// <summary>The connect was refused.</summary>
    ConnectRefused,

    /// <summary>The connect did not complete in time.</summary>
    ConnectTimeout,

    /// <summary>The TLS handshake failed (certificate rejected, no TLS on the other side, no handshake in time).</summary>
    TlsHandshake,

    /// <summary>Any other socket failure.</summary>
    Other,
}
