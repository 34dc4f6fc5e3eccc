using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoServer.TestSupport;

/// <summary>
/// Certificates for TLS tests, made in memory and written as files in a folder of their own (removed on
/// dispose): a CA, a server certificate for localhost signed by it, a client certificate signed by it, and one
/// signed by nobody the server trusts.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    public TestCertificates()
    {
        Folder = Directory.CreateTempSubdirectory("echo-tls-").FullName;
        Ca = CreateCa("CN=Echo Test CA");
        Server = Issue(Ca, "CN=localhost", ServerAuth, DateTimeOffset.UtcNow.AddDays(30));
        Client = Issue(Ca, "CN=alice, O=Echo Tests", ClientAuth, DateTimeOffset.UtcNow.AddDays(30));
        Stranger = Issue(CreateCa("CN=Someone Else"), "CN=mallory", ClientAuth, DateTimeOffset.UtcNow.AddDays(30));
        CaPath = WriteCertificate("ca.pem", Ca);
        CertPath = WriteCertificate("server.pem", Server);
        KeyPath = WriteKey("server.key", Server);
    }

    public string Folder { get; }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public X509Certificate2 Client { get; }

    public X509Certificate2 Stranger { get; }

    public string CaPath { get; }

    public string CertPath { get; }

    public string KeyPath { get; }

    /// <summary>A new server certificate for localhost (a rotation's), with the given validity.</summary>
    public X509Certificate2 NewServer(DateTimeOffset? notAfter = null, string subject = "CN=localhost") => Issue(Ca, subject, ServerAuth, notAfter ?? DateTimeOffset.UtcNow.AddDays(30));

    public string WriteCertificate(string name, X509Certificate2 certificate) => Write(name, certificate.ExportCertificatePem());

    public string WriteKey(string name, X509Certificate2 certificate) => Write(name, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

    public string WritePkcs12(string name, X509Certificate2 certificate, string password)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    /// <summary>Writes <paramref name="text"/> whole: a temporary file renamed over the old one, as a secret store does.</summary>
    public string Write(string name, string text)
    {
        string path = Path.Combine(Folder, name);
        string temporary = path + ".new";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-90), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, Oid usage, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (usage.Value == ServerAuth.Value)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        var notBefore = notAfter < DateTimeOffset.UtcNow ? notAfter.AddDays(-30) : DateTimeOffset.UtcNow.AddDays(-1);
        using var issued = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
        return issued.CopyWithPrivateKey(key);
    }
}
