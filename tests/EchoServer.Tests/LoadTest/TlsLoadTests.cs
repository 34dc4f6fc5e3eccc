using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using EchoServer.Connections;
using EchoServer.LoadTest;
using EchoServer.TestSupport;

namespace EchoServer.Tests.LoadTest;

/// <summary>
/// echo-load --tls against TLS echo servers nobody here wrote (socat's <c>OPENSSL-LISTEN</c> with <c>PIPE</c>): every
/// mode echoes byte-exact, the server's certificate is checked unless --insecure, a client certificate is sent when
/// the server requires one, and a failed handshake is a counted tls-handshake error, never a crash.
/// </summary>
public sealed class TlsLoadTests
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(60);

    public static TheoryData<string, int, int, string?> Modes() => new()
    {
        { "echo", 1, 1000, null },
        { "echo", 8, 16 * 1024, null },
        { "echo", 1, 64, "TLS1.2" },
        { "connect", 1, 64, null },
        { "hold", 1, 64, null },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    internal async Task Every_mode_echoes_byte_exact_over_TLS(string mode, int pipeline, int size, string? maxVersion)
    {
        string folder = NewFolder();
        var server = SelfSignedFiles.Create(folder, "server");
        using var socat = await Socat.StartTlsAsync(folder, server, maxVersion: maxVersion);
        var loadMode = LoadModeNames.Parse(mode);
        var options = Options(socat.EndPoint, new TlsClientOptions { Insecure = true }) with
        {
            Mode = loadMode,
            Connections = 4,
            Pipeline = pipeline,
            MessageSize = size,
            Messages = loadMode == LoadMode.Hold ? null : 40,
            Duration = TimeSpan.FromSeconds(1),
        };

        var report = await Eventually.Completes(new LoadRunner(options, socat.EndPoint).RunAsync(null, CancellationToken.None), $"a {mode} run over TLS", ExitWithin);

        Assert.True(report.Errors.Count == 0, $"errors: {report.Problems()}; first handshake failure: {report.Tls?.FirstFailure}; socat: {socat.Output}");
        Assert.Equal(LoadExitCodes.Ok, report.ExitCode);
        Assert.Equal(loadMode == LoadMode.Hold ? 4 : 40, report.Messages);
        Assert.Equal(report.Messages * size, report.Bytes);
        Assert.Equal(maxVersion is null ? "Tls13" : "Tls12", report.Tls?.Protocol);
        Assert.False(string.IsNullOrEmpty(report.Tls!.CipherSuite));
        Assert.Equal("none", report.Tls.ServerCertificateCheck);
        Assert.Contains($"echo-load {mode} over TLS against", report.ToText(), StringComparison.Ordinal);
        Assert.Contains($"  tls          {TlsReport.Display(report.Tls.Protocol!)}, {report.Tls.CipherSuite}; server certificate not checked (--insecure)", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_self_signed_server_fails_the_handshake_without_insecure_and_passes_when_its_certificate_is_trusted()
    {
        string folder = NewFolder();
        var server = SelfSignedFiles.Create(folder, "server");
        using var socat = await Socat.StartTlsAsync(folder, server);

        var refused = await RunAsync(socat.EndPoint, new TlsClientOptions());
        var trusted = await RunAsync(socat.EndPoint, new TlsClientOptions { TrustedCaPath = server.CertificatePath, ServerName = "localhost" });
        var wrongName = await RunAsync(socat.EndPoint, new TlsClientOptions { TrustedCaPath = server.CertificatePath, ServerName = "elsewhere.example" });

        Assert.Equal(["tls-handshake"], refused.Errors.Keys);
        Assert.Equal(0, refused.Messages);
        Assert.Equal(LoadExitCodes.Errors, refused.ExitCode);
        Assert.Contains("server certificate rejected: RemoteCertificateChainErrors", refused.Tls?.FirstFailure, StringComparison.Ordinal);
        Assert.Contains("--insecure accepts any certificate", refused.Tls!.FirstFailure, StringComparison.Ordinal);
        Assert.Null(refused.Tls.Protocol);

        Assert.True(trusted.Errors.Count == 0, $"errors: {trusted.Problems()}; first handshake failure: {trusted.Tls?.FirstFailure}");
        Assert.Equal(10, trusted.Messages);
        Assert.Equal("ca-file", trusted.Tls?.ServerCertificateCheck);

        Assert.Equal(["tls-handshake"], wrongName.Errors.Keys);
        Assert.Contains("RemoteCertificateNameMismatch", wrongName.Tls?.FirstFailure, StringComparison.Ordinal);
    }

    public static TheoryData<string> ClientCertificateForms() => new() { "pem-and-key", "combined-pem", "pkcs12" };

    [Theory]
    [MemberData(nameof(ClientCertificateForms))]
    public async Task The_client_certificate_is_sent_when_the_server_requires_one(string form)
    {
        string folder = NewFolder();
        var server = SelfSignedFiles.Create(folder, "server");
        var client = SelfSignedFiles.Create(folder, "load-client");
        using var socat = await Socat.StartTlsAsync(folder, server, clientCa: client.CertificatePath);
        var tls = form switch
        {
            "pem-and-key" => new TlsClientOptions { Insecure = true, ClientCertificatePath = client.CertificatePath, ClientKeyPath = client.KeyPath },
            "combined-pem" => new TlsClientOptions { Insecure = true, ClientCertificatePath = client.CombinedPemPath },
            _ => new TlsClientOptions { Insecure = true, ClientCertificatePath = client.Pkcs12Path },
        };

        var report = await RunAsync(socat.EndPoint, tls);

        Assert.True(report.Errors.Count == 0, $"errors: {report.Problems()}; first handshake failure: {report.Tls?.FirstFailure}; socat: {socat.Output}");
        Assert.Equal(10, report.Messages);
        Assert.Equal("CN=load-client", report.Tls?.ClientCertificate);
    }

    [Fact]
    public async Task Without_the_client_certificate_the_server_requires_the_handshake_fails_and_is_counted()
    {
        string folder = NewFolder();
        var server = SelfSignedFiles.Create(folder, "server");
        var client = SelfSignedFiles.Create(folder, "load-client");
        using var socat = await Socat.StartTlsAsync(folder, server, clientCa: client.CertificatePath);

        var report = await RunAsync(socat.EndPoint, new TlsClientOptions { Insecure = true });

        // TLS 1.3 tells the client only with its first read; a write after the server's refusal may meet a reset.
        Assert.Equal(0, report.Messages);
        Assert.True(report.Errors.GetValueOrDefault("tls-handshake") > 0, $"errors: {report.Problems()}");
        Assert.Empty(report.Errors.Keys.Except(["tls-handshake", "reset"]));
        Assert.Contains("certificate required", report.Tls?.FirstFailure, StringComparison.Ordinal);
        Assert.Equal(LoadExitCodes.Errors, report.ExitCode);
    }

    [Fact]
    public async Task Against_a_plaintext_server_every_handshake_fails_counted_and_echo_load_exits_1()
    {
        using var socat = await Socat.StartPlaintextAsync(NewFolder());
        using var load = ServerProcess.StartTool("echo-load.dll", "--port", socat.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--tls", "--insecure", "-c", "2", "-d", "1", "--progress", "0", "--json", "-");

        Assert.Equal(LoadExitCodes.Errors, await load.WaitForExitAsync(ExitWithin));

        using var json = JsonDocument.Parse(string.Join('\n', load.Stdout));
        var errors = json.RootElement.GetProperty("errors").EnumerateObject().ToList();
        Assert.Equal("tls-handshake", Assert.Single(errors).Name);
        Assert.True(errors[0].Value.GetInt64() > 0);
        Assert.Equal(0, json.RootElement.GetProperty("messages").GetInt64());
        Assert.False(json.RootElement.GetProperty("tls").TryGetProperty("protocol", out _), "a protocol was reported though no handshake succeeded");
        Assert.Contains(load.Stderr, l => l.StartsWith("  tls          no handshake succeeded; server certificate not checked (--insecure); first handshake failure: ", StringComparison.Ordinal));
        Assert.Contains(load.Stderr, l => l.StartsWith("  errors       tls-handshake ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task With_proxy_protocol_the_header_goes_first_in_plaintext_then_the_handshake(int version)
    {
        string folder = NewFolder();
        try
        {
            var files = SelfSignedFiles.Create(folder, "server");
            using var certificate = X509Certificate2.CreateFromPemFile(files.CertificatePath, files.KeyPath);
            var sources = new System.Collections.Concurrent.ConcurrentQueue<IPEndPoint?>();
            using var server = LoopbackTestServer.Start(async (_, socket) =>
            {
                // The header byte by byte, so that not one byte of the handshake behind it is read as part of it.
                var parser = new ProxyHeaderParser();
                var next = new byte[1];
                var status = ProxyHeaderStatus.Incomplete;
                while (status == ProxyHeaderStatus.Incomplete)
                {
                    status = await socket.ReceiveAsync(next, SocketFlags.None) > 0 ? parser.Feed(next, out _) : throw new EndOfStreamException();
                }

                sources.Enqueue(parser.Source);
                await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
                await tls.CopyToAsync(tls);
            });
            var options = Options(server.EndPoint, new TlsClientOptions { Insecure = true }) with
            {
                Connections = 2, Messages = 10, ProxyProtocol = version, ProxySource = IPEndPoint.Parse("203.0.113.7:40000"),
            };

            var report = await Eventually.Completes(new LoadRunner(options, server.EndPoint).RunAsync(null, CancellationToken.None), "a run with a PROXY header and TLS", ExitWithin);

            Assert.True(report.Errors.Count == 0, $"errors: {report.Problems()}; first handshake failure: {report.Tls?.FirstFailure}");
            Assert.Equal(10, report.Messages);
            Assert.Equal(2, sources.Count);
            Assert.All(sources, s => Assert.Equal(IPEndPoint.Parse("203.0.113.7:40000"), s));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static TheoryData<string[], string> BadOptions() => new()
    {
        { ["--insecure"], "echo-load: --insecure goes with --tls. See --help." },
        { ["--tls-client-cert", "/nonexistent/client.pem"], "echo-load: --tls-client-cert goes with --tls. See --help." },
        { ["--tls", "--udp"], "echo-load: --tls goes with TCP, not --udp. See --help." },
        { ["--tls", "--insecure", "--tls-ca", "/nonexistent/ca.pem"], "echo-load: --insecure and --tls-ca are alternatives: give one. See --help." },
        { ["--tls", "--tls-client-key", "/nonexistent/client.key"], "echo-load: --tls-client-key goes with --tls-client-cert. See --help." },
        { ["--tls", "--tls-client-cert", "/nonexistent/client.pem"], "echo-load: --tls-client-cert /nonexistent/client.pem: " },
        { ["--tls", "--tls-ca", "/nonexistent/ca.pem"], "echo-load: --tls-ca /nonexistent/ca.pem: " },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task A_bad_TLS_option_gives_one_line_and_exit_code_2(string[] args, string expected)
    {
        using var load = ServerProcess.StartTool("echo-load.dll", ["--port", "9", "-n", "1", "--progress", "0", .. args]);

        Assert.Equal(LoadExitCodes.Usage, await load.WaitForExitAsync(ExitWithin));
        Assert.StartsWith(expected, Assert.Single(load.Stderr), StringComparison.Ordinal);
        Assert.Empty(load.Stdout);
    }

    [Fact]
    public async Task A_client_key_that_does_not_match_the_certificate_gives_one_line_and_exit_code_2()
    {
        string folder = NewFolder();
        try
        {
            var client = SelfSignedFiles.Create(folder, "load-client");
            var other = SelfSignedFiles.Create(folder, "other");
            using var load = ServerProcess.StartTool("echo-load.dll", "--port", "9", "-n", "1", "--progress", "0", "--tls", "--tls-client-cert", client.CertificatePath, "--tls-client-key", other.KeyPath);

            Assert.Equal(LoadExitCodes.Usage, await load.WaitForExitAsync(ExitWithin));
            Assert.StartsWith($"echo-load: --tls-client-cert {client.CertificatePath} with --tls-client-key {other.KeyPath}: ", Assert.Single(load.Stderr), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static LoadOptions Options(IPEndPoint endPoint, TlsClientOptions tls) => new()
    {
        Port = endPoint.Port,
        Tls = tls,
        ConnectTimeout = TimeSpan.FromSeconds(10), // socat forks a process per connection, beside other tests' builds
        ProgressInterval = TimeSpan.Zero,
    };

    /// <summary>Ten ping-pong messages on two connections, or one second of trying.</summary>
    private static Task<LoadReport> RunAsync(IPEndPoint endPoint, TlsClientOptions tls)
    {
        var options = Options(endPoint, tls) with { Connections = 2, Messages = 10, ReplyTimeout = TimeSpan.FromSeconds(2) };
        return Eventually.Completes(new LoadRunner(options, endPoint).RunAsync(null, CancellationToken.None), "a run over TLS", ExitWithin);
    }

    private static string NewFolder() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"echo-load-tls-{Guid.NewGuid():N}")).FullName;
}
