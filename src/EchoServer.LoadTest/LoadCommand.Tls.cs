using System.CommandLine;
using System.CommandLine.Parsing;

namespace EchoServer.LoadTest;

/// <summary>echo-load's TLS options: <c>--tls</c> and what goes with it.</summary>
internal sealed partial class LoadCommand
{
    public Option<bool> Tls { get; } = new("--tls")
    {
        Description = "TLS 1.2 or 1.3 on every TCP connection, in every mode; the server's certificate is checked against the system's roots unless --insecure or --tls-ca. A failed handshake counts as tls-handshake (exit code 1). Each connection makes a full handshake (no session resumption): in connect mode the rate is handshakes per second.",
    };

    public Option<bool> Insecure { get; } = new("--insecure") { Description = "With --tls: accept any server certificate (a self-signed test server)." };

    public Option<FileInfo?> TlsCa { get; } = new("--tls-ca") { HelpName = "FILE", Description = "With --tls: trust the certificates in this PEM file (a private CA, or the server's own self-signed certificate) instead of the system's roots." };

    public Option<FileInfo?> TlsClientCert { get; } = new("--tls-client-cert") { HelpName = "FILE", Description = "With --tls: the client certificate to offer: PEM (its key in the same file or in --tls-client-key) or PKCS#12 without a password." };

    public Option<FileInfo?> TlsClientKey { get; } = new("--tls-client-key") { HelpName = "FILE", Description = "The PEM private key of --tls-client-cert, when not in the certificate's file." };

    public Option<string?> TlsServerName { get; } = new("--tls-server-name") { HelpName = "NAME", Description = "With --tls: the name sent (SNI) and checked against the server's certificate; defaults to --host." };

    private Option[] TlsOptions => [Tls, Insecure, TlsCa, TlsClientCert, TlsClientKey, TlsServerName];

    /// <summary>The TLS options' one-line errors: each companion needs --tls, TLS needs TCP.</summary>
    private void ValidateTls(CommandResult r)
    {
        bool tls = r.GetResult(Tls) is not null;
        foreach (var companion in TlsOptions.Skip(1).Where(o => r.GetResult(o) is not null))
        {
            if (!tls)
            {
                r.AddError($"{companion.Name} goes with --tls.");
            }
        }

        if (tls && r.GetResult(Udp) is not null)
        {
            r.AddError("--tls goes with TCP, not --udp.");
        }

        if (r.GetResult(Insecure) is not null && r.GetResult(TlsCa) is not null)
        {
            r.AddError("--insecure and --tls-ca are alternatives: give one.");
        }

        if (r.GetResult(TlsClientKey) is not null && r.GetResult(TlsClientCert) is null)
        {
            r.AddError("--tls-client-key goes with --tls-client-cert.");
        }

        if (r.GetResult(TlsServerName) is { } name && string.IsNullOrWhiteSpace(name.GetValueOrDefault<string?>()))
        {
            r.AddError("--tls-server-name takes a name.");
        }
    }

    private TlsClientOptions? BindTls(ParseResult r) => !r.GetValue(Tls) ? null : new TlsClientOptions
    {
        Insecure = r.GetValue(Insecure),
        TrustedCaPath = r.GetValue(TlsCa)?.FullName,
        ClientCertificatePath = r.GetValue(TlsClientCert)?.FullName,
        ClientKeyPath = r.GetValue(TlsClientKey)?.FullName,
        ServerName = r.GetValue(TlsServerName),
    };
}
