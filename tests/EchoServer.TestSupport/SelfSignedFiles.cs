using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoServer.TestSupport;

/// <summary>A throwaway self-signed certificate (ECDSA P-256, for localhost and 127.0.0.1) written to a folder as PEM and PKCS#12.</summary>
internal sealed record SelfSignedFiles(string Subject, string CertificatePath, string KeyPath, string CombinedPemPath, string Pkcs12Path)
{
    /// <summary>Writes <c>NAME.pem</c>, <c>NAME.key</c>, <c>NAME-combined.pem</c> (certificate and key) and <c>NAME.p12</c> (no password) into <paramref name="folder"/>.</summary>
    public static SelfSignedFiles Create(string folder, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));

        var files = new SelfSignedFiles($"CN={name}", Path.Combine(folder, $"{name}.pem"), Path.Combine(folder, $"{name}.key"), Path.Combine(folder, $"{name}-combined.pem"), Path.Combine(folder, $"{name}.p12"));
        string certificatePem = certificate.ExportCertificatePem();
        string keyPem = key.ExportPkcs8PrivateKeyPem();
        File.WriteAllText(files.CertificatePath, certificatePem + "\n");
        File.WriteAllText(files.KeyPath, keyPem + "\n");
        File.WriteAllText(files.CombinedPemPath, $"{certificatePem}\n{keyPem}\n");
        File.WriteAllBytes(files.Pkcs12Path, certificate.Export(X509ContentType.Pkcs12));
        return files;
    }
}
