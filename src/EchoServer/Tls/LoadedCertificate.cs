using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoServer.Tls;

/// <summary>What one load of the TLS files gave: the server's certificate with its key, its chain, the CAs a client certificate must chain to.</summary>
internal sealed record LoadedCertificate(X509Certificate2 Certificate, X509Certificate2Collection Chain, X509Certificate2Collection? ClientCas, string Source)
{
    /// <summary>SHA-256 of the certificate, as <c>openssl x509 -fingerprint -sha256</c> prints it.</summary>
    public string Fingerprint => Convert.ToHexString(Certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Aggregate(string.Empty, (s, pair) => s.Length == 0 ? new string(pair) : $"{s}:{new string(pair)}");

    /// <summary>The subject, its fingerprint and its validity, for the log.</summary>
    public string Description => string.Create(CultureInfo.InvariantCulture, $"{Certificate.Subject} from {Source}, SHA-256 {Fingerprint}, valid until {Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC");

    /// <summary>What is wrong with its dates at <paramref name="now"/> (expired, not valid yet); null when nothing is.</summary>
    public string? DateProblem(DateTimeOffset now)
    {
        if (Certificate.NotAfter.ToUniversalTime() < now.UtcDateTime)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the TLS certificate {Certificate.Subject} expired on {Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC: clients that verify it will refuse the handshake");
        }

        return Certificate.NotBefore.ToUniversalTime() > now.UtcDateTime
            ? string.Create(CultureInfo.InvariantCulture, $"the TLS certificate {Certificate.Subject} is not valid before {Certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC: clients that verify it will refuse the handshake")
            : null;
    }
}
