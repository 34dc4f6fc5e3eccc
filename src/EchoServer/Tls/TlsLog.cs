using Microsoft.Extensions.Logging;

namespace EchoServer.Tls;

/// <summary>The TLS log lines: what certificate is served, what its reloads did.</summary>
internal static partial class TlsLog
{
    [LoggerMessage(EventId = 70, EventName = "TlsCertificate", Level = LogLevel.Information,
        Message = "TLS: certificate {Certificate}; client certificates: {ClientCertificates}; handshake timeout {HandshakeTimeoutSeconds:0.###} s")]
    public static partial void Serving(ILogger logger, string certificate, string clientCertificates, double handshakeTimeoutSeconds);

    [LoggerMessage(EventId = 71, EventName = "TlsCertificateChanged", Level = LogLevel.Information,
        Message = "TLS files changed: new connections get certificate {Certificate}")]
    public static partial void FilesReloaded(ILogger logger, string certificate);

    [LoggerMessage(EventId = 72, EventName = "TlsCertificateKept", Level = LogLevel.Warning,
        Message = "TLS files changed but cannot be used, new connections keep certificate {Certificate}: {Problem}")]
    public static partial void FilesRefused(ILogger logger, string certificate, string problem);

    [LoggerMessage(EventId = 73, EventName = "TlsCertificateDates", Level = LogLevel.Warning, Message = "{Problem}")]
    public static partial void DateProblem(ILogger logger, string problem);
}
