using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EchoServer.CommandLine;

namespace EchoServer.LoadTest;

/// <summary>
/// The client side of TLS for every TCP connection of a run: one set of authentication options (files read once,
/// at start), a handshake per connection under the connect deadline, and what the report says about TLS: the
/// protocol and cipher suite negotiated (once) and why the first failed handshake failed.
/// </summary>
internal sealed class TlsClient
{
    private const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly SslClientAuthenticationOptions _authentication;
    private readonly string _check;
    private readonly string? _clientSubject;
    private TlsReport? _negotiated;
    private string? _firstFailure;

    private TlsClient(TlsClientOptions options, string host)
    {
        _check = options.Insecure ? "none" : options.TrustedCaPath is null ? "system" : "ca-file";
        _authentication = new SslClientAuthenticationOptions
        {
            TargetHost = options.ServerName ?? host.Trim('[', ']'),
            EnabledSslProtocols = Protocols,

            // Every connection is a new client and pays a full handshake: handshakes per second in connect mode mean that.
            AllowTlsResume = false,
            RemoteCertificateValidationCallback = options.Insecure ? AcceptAny : CheckServerCertificate,
        };
        if (options.TrustedCaPath is { } caPath)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(LoadCertificates(caPath));
            _authentication.CertificateChainPolicy = policy;
        }

        if (options.ClientCertificatePath is { } certificatePath)
        {
            var certificate = LoadClientCertificate(certificatePath, options.ClientKeyPath);
            _clientSubject = certificate.Subject;

            // A context is sent whatever issuers the server names; a bare collection would be filtered by them.
            _authentication.ClientCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        }
    }

    /// <summary>Reads the files <paramref name="options"/> name; a <see cref="TlsSetupException"/> says in one line what is wrong with one.</summary>
    public static TlsClient Create(TlsClientOptions options, string host) => new(options, host);

    /// <summary>
    /// The TLS handshake on a connected <paramref name="socket"/>, within <paramref name="timeout"/>; a failure of
    /// any kind (certificate rejected, no TLS on the other side, no answer in time) is a counted
    /// <see cref="ErrorKind.TlsHandshake"/>, its first reason kept for the report.
    /// </summary>
    public async Task<LoadConnection> HandshakeAsync(Socket socket, TimeSpan timeout, CancellationToken stop)
    {
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(timeout);
        try
        {
            await tls.AuthenticateAsClientAsync(_authentication, deadline.Token);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            await tls.DisposeAsync();

            // A handshake cut short by the end of the run (or failing as it ends) is no failure of the server's.
            stop.ThrowIfCancellationRequested();
            RecordFailure(ex is OperationCanceledException
                ? $"no handshake within {new Duration(timeout)} (--connect-timeout)"
                : ex.GetBaseException().Message);
            throw new EchoFailure(ErrorKind.TlsHandshake);
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }

        if (Volatile.Read(ref _negotiated) is null)
        {
            Interlocked.CompareExchange(ref _negotiated, Report() with { Protocol = tls.SslProtocol.ToString(), CipherSuite = tls.NegotiatedCipherSuite.ToString() }, null);
        }

        return new LoadConnection(socket, tls, this);
    }

    /// <summary>What the run negotiated (if any handshake succeeded) and the first failure (if any failed).</summary>
    public TlsReport Report() => (Volatile.Read(ref _negotiated) ?? new TlsReport { ServerCertificateCheck = _check, ClientCertificate = _clientSubject }) with
    {
        FirstFailure = Volatile.Read(ref _firstFailure),
    };

    private static bool AcceptAny(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) => true;

    private bool CheckServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // The runtime's own message says only that the callback refused: keep the reason, and the way out.
        var chainStatus = chain?.ChainStatus.Select(s => s.Status.ToString()).Distinct().ToList() ?? [];
        string detail = chainStatus.Count > 0 ? $" ({string.Join(", ", chainStatus)})" : string.Empty;
        RecordFailure($"server certificate rejected: {errors}{detail}; --insecure accepts any certificate (a self-signed test server), --tls-ca trusts a private CA, --tls-server-name sets the name checked");
        return false;
    }

    /// <summary>Keeps the first reason a handshake failed, for the report.</summary>
    public void RecordFailure(string reason) => Interlocked.CompareExchange(ref _firstFailure, ParseErrors.OneLine(reason), null);

    private static X509Certificate2Collection LoadCertificates(string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new TlsSetupException($"--tls-ca {path}: {ParseErrors.OneLine(ex.Message)}");
        }

        return certificates.Count > 0 ? certificates : throw new TlsSetupException($"--tls-ca {path}: no PEM certificate in it");
    }

    /// <summary>PEM (the key in <paramref name="keyPath"/>, or in the same file) or, when the file is not PEM, PKCS#12 without a password.</summary>
    private static X509Certificate2 LoadClientCertificate(string path, string? keyPath)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = keyPath is not null || IsPem(path)
                ? X509Certificate2.CreateFromPemFile(path, keyPath)
                : X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            string files = keyPath is null ? path : $"{path} with --tls-client-key {keyPath}";
            throw new TlsSetupException($"--tls-client-cert {files}: {ParseErrors.OneLine(ex.Message)}");
        }

        return certificate.HasPrivateKey
            ? certificate
            : throw new TlsSetupException($"--tls-client-cert {path}: no private key with the certificate (give --tls-client-key, or a PKCS#12 file that holds one)");
    }

    private static bool IsPem(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            var start = new char[64];
            int n = reader.ReadBlock(start);
            return new string(start, 0, n).TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TlsSetupException($"--tls-client-cert {path}: {ParseErrors.OneLine(ex.Message)}");
        }
    }
}
