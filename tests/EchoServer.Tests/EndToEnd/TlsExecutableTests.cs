using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EchoServer.TestSupport;

namespace EchoServer.Tests.EndToEnd;

/// <summary>
/// TLS through the real executable: files it cannot use stop the start with one line on stderr and exit code 2,
/// an expired certificate starts with a warning, --tls-self-signed logs its fingerprint, and SIGHUP swaps the
/// certificate for new connections (a bad new file keeps the old one and says why).
/// </summary>
public sealed class TlsExecutableTests : IDisposable
{
    private const int SigHup = 1;
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(60);
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    public static TheoryData<string, string> BadInputs => new()
    {
        { "missing", "cannot read --tls-cert" },
        { "a-folder", "cannot read --tls-cert" },
        { "key-mismatch", "does not fit --tls-cert" },
        { "wrong-password", "cannot read it as PKCS#12" },
        { "not-a-certificate", "no PEM certificate in it" },
        { "no-key", "--tls-key needs --tls-cert" },
        { "both", "--tls-cert and --tls-self-signed exclude each other" },
        { "ca-without-client-cert", "--tls-client-ca needs --tls-client-cert optional or require" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Files_it_cannot_use_stop_the_start_with_one_line_and_exit_code_2(string mistake, string said)
    {
        string other = _certificates.WriteKey("other.key", _certificates.NewServer());
        string password = _certificates.Write("password.txt", "right\n");
        string wrong = _certificates.Write("wrong.txt", "wrong\n");
        string p12 = _certificates.WritePkcs12("server.p12", _certificates.Server, "right");
        string[] tls = mistake switch
        {
            "missing" => ["--tls-cert", Path.Combine(_certificates.Folder, "nothing.pem"), "--tls-key", _certificates.KeyPath],
            "a-folder" => ["--tls-cert", _certificates.Folder, "--tls-key", _certificates.KeyPath],
            "key-mismatch" => ["--tls-cert", _certificates.CertPath, "--tls-key", other],
            "wrong-password" => ["--tls-cert", p12, "--tls-password-file", wrong],
            "not-a-certificate" => ["--tls-cert", password, "--tls-key", _certificates.KeyPath],
            "no-key" => ["--tls-key", _certificates.KeyPath],
            "both" => ["--tls-cert", _certificates.CertPath, "--tls-key", _certificates.KeyPath, "--tls-self-signed"],
            _ => ["--tls-self-signed", "--tls-client-ca", _certificates.CaPath],
        };

        using var server = ServerProcess.Start(["--port", "0", .. tls]);
        Assert.Equal(2, await server.WaitForExitAsync(Slow));
        string line = Assert.Single(server.Stderr, l => l.Length > 0);
        Assert.Contains(said, line, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Stdout, l => l.Contains("Listening on", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", string.Join('\n', server.Stderr.Concat(server.Stdout)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pkcs12_file_with_its_password_serves()
    {
        string p12 = _certificates.WritePkcs12("server.p12", _certificates.Server, "right");
        string password = _certificates.Write("password.txt", "right\n");
        using var server = ServerProcess.Start("--port", "0", "--tls-cert", p12, "--tls-password-file", password);
        var endPoint = await server.WaitForListeningAsync(Slow);
        await using var client = await TlsClient.ConnectAsync(endPoint);
        Assert.Equal(_certificates.Server.Thumbprint, new X509Certificate2(client.Stream.RemoteCertificate!).Thumbprint);
        Assert.Equal("p12"u8.ToArray(), await client.RoundTripAsync("p12"u8.ToArray()));
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(Slow));
    }

    [Fact]
    public async Task An_expired_certificate_starts_with_a_warning()
    {
        var expired = _certificates.NewServer(DateTimeOffset.UtcNow.AddDays(-2));
        using var server = ServerProcess.Start("--port", "0", "--tls-cert", _certificates.WriteCertificate("expired.pem", expired), "--tls-key", _certificates.WriteKey("expired.key", expired));
        await server.WaitForListeningAsync(Slow);
        await Eventually.True(() => server.Stdout.Any(l => l.Contains("warn:", StringComparison.Ordinal) && l.Contains("expired on", StringComparison.Ordinal)), "the expiry warning", Slow);
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(Slow));
    }

    [Fact]
    public async Task A_self_signed_certificate_logs_the_fingerprint_clients_see()
    {
        using var server = ServerProcess.Start("--port", "0", "--tls-self-signed");
        var endPoint = await server.WaitForListeningAsync(Slow);
        await using var client = await TlsClient.ConnectAsync(endPoint);
        string fingerprint = string.Join(':', Convert.ToHexString(SHA256.HashData(client.Stream.RemoteCertificate!.GetRawCertData())).Chunk(2).Select(c => new string(c)));
        await Eventually.True(() => server.Stdout.Any(l => l.Contains($"SHA-256 {fingerprint}", StringComparison.Ordinal)), $"the fingerprint {fingerprint} in the log", Slow);
        if (OperatingSystem.IsLinux())
        {
            server.Signal(SigHup); // made at start, in memory: nothing a reload could read
            await Eventually.True(() => server.Stdout.Any(l => l.Contains("SIGHUP received: nothing to reload", StringComparison.Ordinal)), "the SIGHUP line", Slow);
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(Slow));
    }

    [Fact]
    public async Task SIGHUP_gives_new_connections_the_new_certificate_and_a_bad_one_keeps_the_old()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // signal numbers are Linux's
        }

        // Copies the server may watch: the test changes them.
        string cert = _certificates.WriteCertificate("live.pem", _certificates.Server);
        string key = _certificates.WriteKey("live.key", _certificates.Server);
        using var server = ServerProcess.Start("--port", "0", "--tls-cert", cert, "--tls-key", key);
        var endPoint = await server.WaitForListeningAsync(Slow);

        _certificates.Write("live.key", "not a key\n");
        server.Signal(SigHup);
        await Eventually.True(() => server.Stdout.Any(l => l.Contains("SIGHUP received: kept the TLS certificate, the new one cannot be used", StringComparison.Ordinal)), "the line saying the old certificate stays", Slow);
        Assert.Equal(_certificates.Server.Thumbprint, await ServedThumbprintAsync(endPoint));

        var next = _certificates.NewServer(subject: "CN=localhost, O=Rotated");
        _certificates.WriteKey("live.key", next);
        _certificates.WriteCertificate("live.pem", next);
        server.Signal(SigHup);
        await Eventually.True(() => server.Stdout.Any(l => l.Contains("SIGHUP received: reloaded the TLS certificate: CN=localhost, O=Rotated", StringComparison.Ordinal)), "the reload line", Slow);
        Assert.Equal(next.Thumbprint, await ServedThumbprintAsync(endPoint));
        Assert.DoesNotContain("   at ", string.Join('\n', server.Stdout), StringComparison.Ordinal);

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(Slow));
    }

    private static async Task<string> ServedThumbprintAsync(System.Net.IPEndPoint endPoint)
    {
        await using var client = await TlsClient.ConnectAsync(endPoint);
        return new X509Certificate2(client.Stream.RemoteCertificate!).Thumbprint;
    }
}
