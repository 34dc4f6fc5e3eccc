using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoServer.Tls;

/// <summary>
/// Reads the TLS files (PEM certificate and key, PEM with its key in one file, or PKCS#12 with a password file)
/// or makes a self-signed certificate; every mistake is a <see cref="TlsSetupException"/> that says in one line
/// which file and what is wrong with it.
/// </summary>
internal static class CertificateLoader
{
    private const string PemStart = "-----BEGIN";

    /// <summary>Loads what <paramref name="settings"/> names.</summary>
    public static LoadedCertificate Load(TlsSettings settings)
    {
        var clientCas = settings.ClientCaPath is { } caPath ? LoadCas(caPath) : null;
        if (settings.SelfSigned)
        {
            return new LoadedCertificate(SelfSigned(), [], clientCas, "--tls-self-signed");
        }

        string certPath = settings.CertificatePath ?? throw new TlsSetupException("--tls-cert or --tls-self-signed is needed for TLS.");
        string? password = settings.PasswordPath is { } passwordPath ? ReadPassword(passwordPath) : null;
        byte[] certBytes = Read(certPath, "--tls-cert");
        var (certificate, chain) = settings.KeyPath is { } keyPath
            ? FromPem(certPath, certBytes, keyPath, ReadText(keyPath, "--tls-key"), password)
            : IsPem(certBytes) ? FromPem(certPath, certBytes, certPath, ReadText(certPath, "--tls-cert"), password) : FromPkcs12(certPath, certBytes, password);
        return new LoadedCertificate(UsableBySslStream(certificate), chain, clientCas, certPath);
    }

    private static (X509Certificate2, X509Certificate2Collection) FromPem(string certPath, byte[] certBytes, string keyPath, string keyPem, string? password)
    {
        string certPem = System.Text.Encoding.UTF8.GetString(certBytes);
        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(certPem);
        }
        catch (CryptographicException ex)
        {
            throw new TlsSetupException($"--tls-cert {certPath}: not a PEM certificate ({ex.Message.TrimEnd('.')}).");
        }

        if (all.Count == 0)
        {
            throw new TlsSetupException($"--tls-cert {certPath}: no PEM certificate in it (-----BEGIN CERTIFICATE-----).");
        }

        if (!keyPem.Contains(PemStart, StringComparison.Ordinal) || !keyPem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new TlsSetupException($"{(keyPath == certPath ? "--tls-cert" : "--tls-key")} {keyPath}: no PEM private key in it (-----BEGIN PRIVATE KEY-----).");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = keyPem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromEncryptedPem(certPem, keyPem, password ?? throw new TlsSetupException($"--tls-key {keyPath} is encrypted: give its password with --tls-password-file."))
                : X509Certificate2.CreateFromPem(certPem, keyPem);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            string why = ex is ArgumentException ? "its public key is not the certificate's" : ex.Message.TrimEnd('.');
            throw new TlsSetupException($"--tls-key {keyPath} does not fit --tls-cert {certPath}: {why}.");
        }

        var chain = new X509Certificate2Collection();
        foreach (var other in all.Skip(1))
        {
            chain.Add(other);
        }

        return (certificate, chain);
    }

    private static (X509Certificate2, X509Certificate2Collection) FromPkcs12(string path, byte[] bytes, string? password)
    {
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12Collection(bytes, password, X509KeyStorageFlags.DefaultKeySet);
        }
        catch (CryptographicException ex)
        {
            string why = password is null ? " (a PKCS#12 file; its password goes in --tls-password-file; a PEM certificate needs --tls-key)" : string.Empty;
            throw new TlsSetupException($"--tls-cert {path}: cannot read it as PKCS#12: {ex.Message.TrimEnd('.')}{why}.");
        }

        var certificate = all.FirstOrDefault(c => c.HasPrivateKey)
            ?? throw new TlsSetupException($"--tls-cert {path}: the PKCS#12 file holds no private key.");
        var chain = new X509Certificate2Collection();
        foreach (var other in all.Where(c => !ReferenceEquals(c, certificate)))
        {
            chain.Add(other);
        }

        return (certificate, chain);
    }

    private static X509Certificate2Collection LoadCas(string path)
    {
        var cas = new X509Certificate2Collection();
        try
        {
            cas.ImportFromPem(ReadText(path, "--tls-client-ca"));
        }
        catch (CryptographicException ex)
        {
            throw new TlsSetupException($"--tls-client-ca {path}: not PEM certificates ({ex.Message.TrimEnd('.')}).");
        }

        return cas.Count > 0 ? cas : throw new TlsSetupException($"--tls-client-ca {path}: no PEM certificate in it (-----BEGIN CERTIFICATE-----).");
    }

    /// <summary>An ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1, valid for a year, kept in memory only.</summary>
    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        return UsableBySslStream(request.CreateSelfSigned(now.AddHours(-1), now.AddYears(1)));
    }

    /// <summary>Windows' TLS cannot use a key that lives only in memory: there the certificate goes through PKCS#12 once.</summary>
    private static X509Certificate2 UsableBySslStream(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows())
        {
            return certificate;
        }

        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        }
    }

    private static string ReadPassword(string path) => ReadText(path, "--tls-password-file").Split('\n')[0].TrimEnd('\r');

    private static string ReadText(string path, string option) => System.Text.Encoding.UTF8.GetString(Read(path, option));

    private static byte[] Read(string path, string option)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new TlsSetupException($"cannot read {option} {path}: {ex.Message}");
        }
    }

    private static bool IsPem(byte[] bytes) => System.Text.Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 4096)).Contains(PemStart, StringComparison.Ordinal);
}
