using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using EchoServer.Connections;
using EchoServer.Echo;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;
using EchoServer.Tls;

namespace EchoServer.Tests.Tls;

/// <summary>TLS in both pools through .NET's SslStream: the echo and its half-close, the handshake off the pool, refusals, mTLS, and the PROXY protocol header before it.</summary>
public sealed class TlsEchoTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public static TheoryData<string> Pools => new() { "workers", "executor" };

    public void Dispose() => _certificates.Dispose();

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Bytes_come_back_unchanged_and_a_close_notify_then_fin_gets_every_byte_then_ours(string pool)
    {
        await using var server = await StartAsync(pool);
        byte[] data = RandomNumberGenerator.GetBytes(300_000);
        await using var client = await TlsClient.ConnectAsync(server.EndPoint);

        Assert.Equal(data, await client.EchoToEndAsync(data)); // read to the end: the server's close_notify and FIN came after the last byte

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        var closed = Assert.Single(server.Logs.Named("ConnectionClosed")).Message;
        Assert.Contains("reason=client-closed", closed, StringComparison.Ordinal);
        Assert.Contains("in=300000 B, out=300000 B", closed, StringComparison.Ordinal);
        Assert.Contains("tls=TLSv1.3", closed, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_fault_plan_after_the_handshake_shapes_the_plaintext_and_the_echo_stays_exact(string pool)
    {
        await using var server = await StartAsync(pool, configure: o => o with { Faults = new global::EchoServer.Faults.FaultSettings { Chunk = 1000 } });
        byte[] data = RandomNumberGenerator.GetBytes(50_000);
        await using var client = await TlsClient.ConnectAsync(server.EndPoint);

        Assert.Equal(data, await client.EchoToEndAsync(data));
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        var closed = Assert.Single(server.Logs.Named("ConnectionClosed")).Message;
        Assert.Contains("reason=client-closed", closed, StringComparison.Ordinal);
        Assert.Contains("tls=TLSv1.3", closed, StringComparison.Ordinal);
        Assert.Contains("fault=chunk", closed, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_silent_client_and_a_plaintext_one_are_refused_as_tls_handshake_with_what_was_wrong(string pool)
    {
        await using var server = await StartAsync(pool, tls => tls with { HandshakeTimeout = TimeSpan.FromSeconds(1) });
        using var plaintext = await EchoClient.ConnectAsync(server.EndPoint);
        await plaintext.Socket.SendAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), SocketFlags.None);
        await Eventually.True(() => server.Logs.Named("RefusedWithProblem").Any(), "the plaintext client's refusal");

        // Connected after that line: its refusal comes a whole handshake timeout later, past the refusal log's one-second limit.
        using var silent = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Logs.Named("RefusedWithProblem").Count() == 2, "both refusals");
        var lines = server.Logs.Named("RefusedWithProblem").Select(l => l.Message).ToList();
        Assert.Contains(lines, l => l.Contains("refused: tls-handshake, not a TLS handshake (first byte 0x47)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("refused: tls-handshake, no handshake within 1 s (the client sent nothing)", StringComparison.Ordinal));
        Assert.All(server.Logs.Entries, e => Assert.Null(e.Exception));
        await Eventually.True(() => server.Service.Counters.Refused == 2, "the refusals to be counted (at their close, after the client saw it)");
        Assert.Equal(0, await silent.Socket.ReceiveAsync(new byte[16], SocketFlags.None)); // closed, not reset
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Silent_plaintext_connections_hold_no_worker_and_no_slot_so_a_tls_client_is_served_at_once(string pool)
    {
        // Two workers or slots, 300 clients that never start their handshake: they wait off the pool.
        await using var server = await StartAsync(pool, configure: o => o with { PoolSettings = TestServer.Pool(2, 4) });
        var silent = new List<Socket>();
        try
        {
            for (int i = 0; i < 300; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(server.EndPoint);
                silent.Add(socket);
            }

            await Eventually.True(() => server.Service.Connections.Count >= 300, "the 300 silent connections accepted");
            var started = Stopwatch.StartNew();
            await using var client = await Eventually.Completes(TlsClient.ConnectAsync(server.EndPoint), "a TLS handshake beside 300 silent connections", TimeSpan.FromSeconds(5));
            Assert.Equal("hello"u8.ToArray(), await Eventually.Completes(client.RoundTripAsync("hello"u8.ToArray()), "the echo", TimeSpan.FromSeconds(5)));
            Assert.Equal(0, server.Service.Counters.Refused);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Required_client_certificate_serves_the_one_the_ca_signed_and_refuses_none_and_a_stranger(string pool)
    {
        await using var server = await StartAsync(pool, tls => tls with { ClientCertificate = ClientCertificateMode.Require, ClientCaPath = _certificates.CaPath });

        await using (var alice = await TlsClient.ConnectAsync(server.EndPoint, _certificates.Client))
        {
            Assert.Equal("hi"u8.ToArray(), await alice.EchoToEndAsync("hi"u8.ToArray()));
        }

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "alice's close line");
        Assert.Contains("client-cert=\"CN=alice, O=Echo Tests\"", Assert.Single(server.Logs.Named("ConnectionClosed")).Message, StringComparison.Ordinal);

        await ShakeHandsOrFailAsync(server.EndPoint, null);
        await Eventually.True(() => server.Logs.Named("RefusedWithProblem").Any(), "the refusal of a client without a certificate");
        Assert.Contains("refused: tls-handshake, no client certificate (--tls-client-cert require)", Assert.Single(server.Logs.Named("RefusedWithProblem")).Message, StringComparison.Ordinal);

        // Refusal lines are rate-limited (one a second): a stranger's goes to a server of its own.
        await using var other = await StartAsync(pool, tls => tls with { ClientCertificate = ClientCertificateMode.Require, ClientCaPath = _certificates.CaPath });
        await ShakeHandsOrFailAsync(other.EndPoint, _certificates.Stranger);
        await Eventually.True(() => other.Logs.Named("RefusedWithProblem").Any(), "the refusal of a certificate no trusted CA signed");
        Assert.Contains("refused: tls-handshake, the client certificate CN=mallory does not verify", Assert.Single(other.Logs.Named("RefusedWithProblem")).Message, StringComparison.Ordinal);
        Assert.Equal(0, other.Service.Counters.Served);
        await Eventually.True(() => server.Service.Counters.Refused == 1, "the refusal to be counted (at its close, after the client saw it)");
        Assert.Equal(1, server.Service.Counters.Served);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Optional_client_certificate_serves_a_client_without_one(string pool)
    {
        await using var server = await StartAsync(pool, tls => tls with { ClientCertificate = ClientCertificateMode.Optional, ClientCaPath = _certificates.CaPath });
        await using var anonymous = await TlsClient.ConnectAsync(server.EndPoint);
        Assert.Equal("hi"u8.ToArray(), await anonymous.EchoToEndAsync("hi"u8.ToArray()));
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        Assert.DoesNotContain("client-cert=", Assert.Single(server.Logs.Named("ConnectionClosed")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_proxy_protocol_header_comes_before_the_handshake_even_in_the_same_segment(string pool)
    {
        await using var server = await StartAsync(pool, configure: o => o with { ProxyProtocol = ProxyProtocolMode.Required });
        var header = ProxyHeaders.V1(IPEndPoint.Parse("203.0.113.7:40001"), IPEndPoint.Parse("192.0.2.1:443"));
        await using var client = await TlsClient.ConnectAsync(server.EndPoint, prefix: header);

        Assert.Equal("through the proxy"u8.ToArray(), await client.EchoToEndAsync("through the proxy"u8.ToArray()));
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        Assert.Contains("accepted from 203.0.113.7:40001", Assert.Single(server.Logs.Named("ConnectionAccepted")).Message, StringComparison.Ordinal);
        Assert.Contains("in=17 B, out=17 B", Assert.Single(server.Logs.Named("ConnectionClosed")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task With_an_optional_proxy_protocol_header_a_client_without_one_shakes_hands_with_the_bytes_read_to_look_for_it(string pool)
    {
        await using var server = await StartAsync(pool, configure: o => o with { ProxyProtocol = ProxyProtocolMode.Optional });
        await using var client = await TlsClient.ConnectAsync(server.EndPoint);

        Assert.Equal("no header"u8.ToArray(), await client.EchoToEndAsync("no header"u8.ToArray()));
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        Assert.Contains("in=9 B, out=9 B", Assert.Single(server.Logs.Named("ConnectionClosed")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task The_snapshot_shows_a_handshake_in_progress_and_the_tls_details_of_a_session(string pool)
    {
        await using var server = await StartAsync(pool);
        using var waiting = await EchoClient.ConnectAsync(server.EndPoint);
        await Eventually.True(() => server.Service.Connections.Snapshot().Any(c => c.Progress.Waiting.Kind == SessionWait.Handshake), "a connection handshaking");
        Assert.Equal("handshaking", SessionWait.Handshake.ToName());

        await using var client = await TlsClient.ConnectAsync(server.EndPoint);
        await client.RoundTripAsync("x"u8.ToArray());
        var shown = server.Service.Connections.Snapshot().Single(c => c.Stream is not null);
        Assert.Contains(shown.Details, d => d.Key == "tls" && d.Value is "TLSv1.3");
        if (pool == "workers")
        {
            // A worker holds its client for life, so the snapshot lists it: text and JSON carry the details.
            Assert.Contains("tls=TLSv1.3", server.Service.Snapshot(), StringComparison.Ordinal);
            string json = System.Text.Json.JsonSerializer.Serialize(server.Service.CaptureSnapshot(), SnapshotJsonContext.Default.SnapshotData);
            Assert.Contains("\"details\":{\"tls\":\"TLSv1.3\"}", json, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task A_client_that_does_not_read_is_reset_and_the_echoed_count_claims_no_byte_it_could_not_decrypt(string pool)
    {
        await using var server = await StartAsync(pool, configure: o => o with { SendTimeout = TimeSpan.FromSeconds(1) });
        await using var client = await TlsClient.ConnectAsync(server.EndPoint);
        client.Socket.ReceiveBufferSize = 64 * 1024;

        // Send without reading until the server, stuck on our full window, resets us.
        byte[] chunk = RandomNumberGenerator.GetBytes(16 * 1024);
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!server.Logs.Named("ConnectionClosed").Any())
            {
                await client.Stream.WriteAsync(chunk, deadline.Token);
            }
        }
        catch (IOException)
        {
            // The reset reached our sends.
        }

        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the reset's close line");
        var closed = Assert.Single(server.Logs.Named("ConnectionClosed"));
        Assert.Contains("reason=send-timeout", closed.Message, StringComparison.Ordinal);
        long echoed = long.Parse(System.Text.RegularExpressions.Regex.Match(closed.Message, "out=([0-9]+) B").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        // What the client can still decrypt of what reached it before the reset.
        long decrypted = 0;
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await client.Stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10))) > 0)
            {
                decrypted += read;
            }
        }
        catch (IOException)
        {
            // The reset, after the records that arrived whole.
        }

        Assert.True(echoed > 0, "nothing was counted as echoed");
        Assert.True(echoed <= decrypted, $"out={echoed} B counted, but the client could decrypt only {decrypted} B");
    }

    private static async Task ShakeHandsOrFailAsync(IPEndPoint server, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        try
        {
            // TLS 1.3 lets the client finish before the server has checked its certificate: the refusal shows on the first read.
            await using var client = await TlsClient.ConnectAsync(server, certificate);
            await client.Stream.WriteAsync("x"u8.ToArray());
            Assert.Equal(0, await client.Stream.ReadAsync(new byte[1]));
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            // Refused: what the test wants.
        }
    }

    private Task<TestServer> StartAsync(string pool, Func<TlsSettings, TlsSettings>? tls = null, Func<ServerOptions, ServerOptions>? configure = null)
    {
        var settings = new TlsSettings { CertificatePath = _certificates.CertPath, KeyPath = _certificates.KeyPath };
        return TestServer.StartAsync(PoolKindNames.Parse(pool), o => (configure ?? (x => x))(o with { Tls = (tls ?? (t => t))(settings) }));
    }
}
