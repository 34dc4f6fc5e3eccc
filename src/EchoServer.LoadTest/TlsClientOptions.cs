namespace EchoServer.LoadTest;

/// <summary>What <c>--tls</c> and its companions ask of each TCP connection's handshake.</summary>
internal sealed record TlsClientOptions
{
    /// <summary>Accept any server certificate (<c>--insecure</c>): for self-signed test servers.</summary>
    public bool Insecure { get; init; }

    /// <summary>Certificates to trust instead of the system's roots (<c>--tls-ca</c>, PEM), or null for the system's.</summary>
    public string? TrustedCaPath { get; init; }

    /// <summary>The client certificate (<c>--tls-client-cert</c>): PEM (key beside it or in <see cref="ClientKeyPath"/>) or PKCS#12.</summary>
    public string? ClientCertificatePath { get; init; }

    /// <summary>The client certificate's PEM private key (<c>--tls-client-key</c>), when not in the certificate's own file.</summary>
    public string? ClientKeyPath { get; init; }

    /// <summary>The name sent (SNI) and checked against the server certificate (<c>--tls-server-name</c>); defaults to <c>--host</c>.</summary>
    public string? ServerName { get; init; }
}
