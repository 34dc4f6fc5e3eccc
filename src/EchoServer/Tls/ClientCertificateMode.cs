namespace EchoServer.Tls;

/// <summary>Whether a TLS client must show a certificate (<c>--tls-client-cert</c>).</summary>
internal enum ClientCertificateMode
{
    /// <summary>None is asked for.</summary>
    None,

    /// <summary>Asked for; a client without one is served, one with a certificate that does not verify is refused.</summary>
    Optional,

    /// <summary>Asked for; a client without one that verifies is refused (mTLS).</summary>
    Require,
}

/// <summary>The one spelling of each <see cref="ClientCertificateMode"/>, as the command line takes it.</summary>
internal static class ClientCertificateModeNames
{
    public static IReadOnlyList<string> All { get; } = ["none", "optional", "require"];

    public static string ToName(this ClientCertificateMode mode) => All[(int)mode];

    public static ClientCertificateMode Parse(string name) => (ClientCertificateMode)Math.Max(0, All.ToList().IndexOf(name));
}
