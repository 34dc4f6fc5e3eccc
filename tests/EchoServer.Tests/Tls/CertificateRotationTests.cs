using System.Security.Cryptography.X509Certificates;
using EchoServer.Hosting;
using EchoServer.Pools;
using EchoServer.TestSupport;
using EchoServer.Tls;
using Microsoft.Extensions.DependencyInjection;

namespace EchoServer.Tests.Tls;

/// <summary>
/// The certificate changes under load without a failed handshake: new connections get the new one once its
/// files change (or SIGHUP's hook runs), and files that cannot be used leave the old one in use, with a line.
/// </summary>
public sealed class CertificateRotationTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public static TheoryData<string> Pools => new() { "workers", "executor" };

    public void Dispose() => _certificates.Dispose();

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Clients_handshaking_all_along_never_fail_while_the_files_change_twice(string pool)
    {
        string cert = _certificates.WriteCertificate("live.pem", _certificates.Server);
        string key = _certificates.WriteKey("live.key", _certificates.Server);
        await using var server = await TestServer.StartAsync(PoolKindNames.Parse(pool), o => o with { Tls = new TlsSettings { CertificatePath = cert, KeyPath = key } });
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var client = await TlsClient.ConnectAsync(server.EndPoint);
                    Assert.Equal("rotate"u8.ToArray(), await client.EchoToEndAsync("rotate"u8.ToArray()));
                    seen.AddOrUpdate(new X509Certificate2(client.Stream.RemoteCertificate!).Thumbprint, 1, (_, n) => n + 1);
                }
#pragma warning disable CA1031 // Every failure is what the test counts.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures.Enqueue(ex.Message);
                }
            }
        })).ToList();

        await Eventually.True(() => seen.ContainsKey(_certificates.Server.Thumbprint), "handshakes with the first certificate");

        // The file watch: key and certificate replaced, each whole.
        var second = _certificates.NewServer(subject: "CN=localhost, O=Second");
        _certificates.WriteKey("live.key", second);
        _certificates.WriteCertificate("live.pem", second);
        await Eventually.True(() => seen.ContainsKey(second.Thumbprint), "handshakes with the certificate the files changed to");
        await Eventually.True(() => server.Logs.Named("TlsCertificateChanged").Any(l => l.Message.Contains("O=Second", StringComparison.Ordinal)), "the line naming the new certificate"); // logged just after the swap

        // SIGHUP's hook: what the signal runs.
        var third = _certificates.NewServer(subject: "CN=localhost, O=Third");
        _certificates.WriteKey("live.key", third);
        _certificates.WriteCertificate("live.pem", third);
        Assert.True(server.Services.GetServices<IReloadable>().Single().TryReload(out string said), said);
        await Eventually.True(() => seen.ContainsKey(third.Thumbprint), "handshakes with the certificate SIGHUP loaded");

        stop.Cancel();
        await Task.WhenAll(clients);
        Assert.Empty(failures);
        Assert.Equal(0, server.Service.Counters.Refused);
    }

    [Fact]
    public async Task A_changed_file_that_cannot_be_used_keeps_the_certificate_in_use_and_says_why()
    {
        string cert = _certificates.WriteCertificate("live.pem", _certificates.Server);
        string key = _certificates.WriteKey("live.key", _certificates.Server);
        await using var server = await TestServer.StartAsync(PoolKind.Executor, o => o with { Tls = new TlsSettings { CertificatePath = cert, KeyPath = key } });

        _certificates.WriteKey("live.key", _certificates.NewServer()); // a key of another certificate
        await Eventually.True(() => server.Logs.Named("TlsCertificateKept").Any(), "the line saying the files cannot be used");
        var kept = Assert.Single(server.Logs.Named("TlsCertificateKept"));
        Assert.Contains("does not fit --tls-cert", kept.Message, StringComparison.Ordinal);
        Assert.Null(kept.Exception);

        await using var client = await TlsClient.ConnectAsync(server.EndPoint);
        Assert.Equal(_certificates.Server.Thumbprint, new X509Certificate2(client.Stream.RemoteCertificate!).Thumbprint);
        Assert.Equal("still"u8.ToArray(), await client.RoundTripAsync("still"u8.ToArray()));
    }
}
