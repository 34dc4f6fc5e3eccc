using EchoServer.Tls;

namespace EchoServer.Hosting;

/// <summary>SIGHUP loads the TLS files again (<see cref="ServerCertificate.TryReload"/>).</summary>
internal sealed class CertificateReload(ServerCertificate certificate) : IReloadable
{
    public string Name => "the TLS certificate";

    public bool TryReload(out string said) => certificate.TryReload(out said);
}
