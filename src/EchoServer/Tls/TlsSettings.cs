namespace EchoServer.Tls;

/// <summary>TLS on every connection: where the certificate comes from, what a client must show, how long a handshake may take.</summary>
internal sealed record TlsSettings
{
    /// <summary>The default <see cref="HandshakeTimeout"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The certificate (PEM, with its chain), or a PKCS#12 file when <see cref="KeyPath"/> is null; null with <see cref="SelfSigned"/>.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>; null when that file holds the key (PKCS#12, or PEM with its key).</summary>
    public string? KeyPath { get; init; }

    /// <summary>A file whose first line is the PKCS#12 password; null for none.</summary>
    public string? PasswordPath { get; init; }

    /// <summary>An in-memory self-signed certificate for localhost instead of files.</summary>
    public bool SelfSigned { get; init; }

    /// <summary>Whether a client must show a certificate. Defaults to none.</summary>
    public ClientCertificateMode ClientCertificate { get; init; }

    /// <summary>PEM certificates a client certificate must chain to; null for the system's trust store.</summary>
    public string? ClientCaPath { get; init; }

    /// <summary>From the start of the handshake to its end; past it the connection is closed (tls-handshake). Defaults to 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = DefaultHandshakeTimeout;

    /// <summary>The files a reload reads again (none for a self-signed certificate).</summary>
    public IReadOnlyList<string> Files => [.. new[] { CertificatePath, KeyPath, PasswordPath, ClientCaPath }.OfType<string>()];
}
