using System.CommandLine;
using System.CommandLine.Parsing;
using EchoServer.CommandLine;
using EchoServer.Tls;

namespace EchoServer.Cli;

/// <summary>The TLS options of the command line, how they go together, and the mapping to <see cref="TlsSettings"/>.</summary>
internal sealed class TlsOptions
{
    private const string NeedsTls = "needs --tls-cert or --tls-self-signed";

    public Option<string?> Certificate { get; } = new("--tls-cert") { Description = "Speak TLS (1.2, 1.3) with this certificate: PEM (its chain after it; the key in --tls-key or in the same file), or PKCS#12 (.p12/.pfx, with --tls-password-file). Reloaded on SIGHUP and when the files change." };

    public Option<string?> Key { get; } = new("--tls-key") { Description = "The PEM private key of --tls-cert." };

    public Option<string?> PasswordFile { get; } = new("--tls-password-file") { Description = "A file whose first line is the password of a PKCS#12 --tls-cert (or of an encrypted --tls-key)." };

    public Option<bool> SelfSigned { get; } = new("--tls-self-signed") { Description = "Speak TLS with a certificate for localhost made at start, in memory only (its SHA-256 fingerprint is logged): for local tests." };

    public Option<string> ClientCertificate { get; } = OptionFactory.Choice(new("--tls-client-cert") { Description = "Ask TLS clients for a certificate: none, optional (one that does not verify is refused), require (mTLS: none, or one that does not verify, is refused: tls-handshake).", DefaultValueFactory = _ => ClientCertificateMode.None.ToName() }, [.. ClientCertificateModeNames.All]);

    public Option<string?> ClientCa { get; } = new("--tls-client-ca") { Description = "PEM certificates a client certificate must chain to (default: the system's trust store)." };

    public Option<Duration> HandshakeTimeout { get; } = OptionFactory.Duration("--tls-handshake-timeout", "Close a client whose TLS handshake has not ended this long after it began (tls-handshake); it holds no worker and no slot meanwhile.", TlsSettings.DefaultHandshakeTimeout);

    public IEnumerable<Option> All => [Certificate, Key, PasswordFile, SelfSigned, ClientCertificate, ClientCa, HandshakeTimeout];

    /// <summary>Options that mean nothing, or contradict each other, without the rest.</summary>
    public void Validate(CommandResult r)
    {
        bool cert = Given(r, Certificate);
        bool selfSigned = r.GetResult(SelfSigned)?.GetValueOrDefault<bool>() ?? false;
        if (cert && selfSigned)
        {
            r.AddError("--tls-cert and --tls-self-signed exclude each other: use one certificate.");
        }

        foreach (var option in new Option[] { Key, PasswordFile }.Where(o => Given(r, o) && !cert))
        {
            r.AddError($"{option.Name} needs --tls-cert.");
        }

        foreach (var option in new Option[] { ClientCertificate, ClientCa, HandshakeTimeout }.Where(o => Given(r, o) && !cert && !selfSigned))
        {
            r.AddError($"{option.Name} {NeedsTls}.");
        }

        // A root validator sees a default only through the option's result, if it has one.
        string mode = r.GetResult(ClientCertificate)?.GetValueOrDefault<string>() ?? ClientCertificateMode.None.ToName();
        if (Given(r, ClientCa) && mode == ClientCertificateMode.None.ToName())
        {
            r.AddError("--tls-client-ca needs --tls-client-cert optional or require.");
        }

        if (r.GetResult(HandshakeTimeout) is { Implicit: false } timeout && timeout.GetValueOrDefault<Duration>().Value <= TimeSpan.Zero)
        {
            r.AddError("--tls-handshake-timeout must be more than 0: a handshake without a deadline lets a silent client hold its connection for ever.");
        }
    }

    /// <summary>The settings, or null without TLS.</summary>
    public TlsSettings? Bind(ParseResult result)
    {
        bool selfSigned = result.GetValue(SelfSigned);
        string? certificate = result.GetValue(Certificate);
        return certificate is null && !selfSigned ? null : new TlsSettings
        {
            CertificatePath = certificate,
            KeyPath = result.GetValue(Key),
            PasswordPath = result.GetValue(PasswordFile),
            SelfSigned = selfSigned,
            ClientCertificate = ClientCertificateModeNames.Parse(result.GetValue(ClientCertificate)!),
            ClientCaPath = result.GetValue(ClientCa),
            HandshakeTimeout = result.GetValue(HandshakeTimeout).Value,
        };
    }

    private static bool Given(CommandResult r, Option option) => r.GetResult(option) is { Implicit: false };
}
