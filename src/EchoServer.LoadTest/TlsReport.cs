namespace EchoServer.LoadTest;

/// <summary>What a run over TLS negotiated and how the server's certificate was treated, as printed and as written to JSON.</summary>
internal sealed record TlsReport
{
    /// <summary>The protocol of the first handshake that succeeded ("Tls12", "Tls13"), or null when none did.</summary>
    public string? Protocol { get; init; }

    /// <summary>The cipher suite of that handshake (e.g. TLS_AES_256_GCM_SHA384).</summary>
    public string? CipherSuite { get; init; }

    /// <summary>"system" (the machine's roots), "ca-file" (<c>--tls-ca</c>) or "none" (<c>--insecure</c>).</summary>
    public required string ServerCertificateCheck { get; init; }

    /// <summary>The subject of the client certificate offered (<c>--tls-client-cert</c>), if any.</summary>
    public string? ClientCertificate { get; init; }

    /// <summary>Why the first failed handshake failed, if one did.</summary>
    public string? FirstFailure { get; init; }

    /// <summary>"TLS 1.3" for "Tls13": how people write it.</summary>
    public static string Display(string protocol) => protocol switch
    {
        "Tls12" => "TLS 1.2",
        "Tls13" => "TLS 1.3",
        _ => protocol,
    };
}
