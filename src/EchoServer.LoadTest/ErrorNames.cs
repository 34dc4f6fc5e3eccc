namespace EchoServer.LoadTest;

/// <summary>Report names of <see cref="ErrorKind"/>.</summary>
internal static class ErrorNames
{
    public static string Of(ErrorKind kind) => kind switch
    {
        ErrorKind.Mismatch => "mismatch",
        ErrorKind.ShortEcho => "short-echo",
        ErrorKind.Reset => "reset",
        ErrorKind.ConnectRefused => "connect-refused",
        ErrorKind.ConnectTimeout => "connect-timeout",
        ErrorKind.TlsHandshake => "tls-handshake",
        _ => "other",
    };
}
