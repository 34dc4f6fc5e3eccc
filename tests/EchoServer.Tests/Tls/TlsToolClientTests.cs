using System.Diagnostics;
using System.Security.Cryptography;
using EchoServer.Pools;
using EchoServer.TestSupport;
using EchoServer.Tls;

namespace EchoServer.Tests.Tls;

/// <summary>
/// TLS clients no one here wrote, in both pools: OpenSSL's <c>s_client</c> and socat's <c>OPENSSL:</c> address
/// (Debian packages openssl and socat, installed when missing), each verifying the server's chain against the
/// test CA, get random bytes back unchanged; socat ends its side as TLS does (close_notify, then a FIN) and
/// reads the rest.
/// </summary>
public sealed class TlsToolClientTests : IDisposable
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);
    private readonly TestCertificates _certificates = new();

    public static TheoryData<string> Pools => new() { "workers", "executor" };

    public void Dispose() => _certificates.Dispose();

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Openssl_s_client_gets_every_byte_back_then_ends_with_close_notify(string pool)
    {
        await DebianTool.RequireAsync("openssl", "openssl");
        await using var server = await StartAsync(pool);
        byte[] data = RandomNumberGenerator.GetBytes(200_000);

        using var client = Start("openssl", "s_client", "-connect", server.EndPoint.ToString(), "-servername", "localhost", "-verify_hostname", "localhost", "-CAfile", _certificates.CaPath, "-verify_return_error", "-quiet", "-no_ign_eof", "-nocommands");
        var said = client.StandardError.ReadToEndAsync();
        var reading = ReadAsync(client.StandardOutput.BaseStream, data.Length);
        try
        {
            await client.StandardInput.BaseStream.WriteAsync(data);
            await client.StandardInput.BaseStream.FlushAsync();
        }
        catch (IOException)
        {
            Assert.Fail($"s_client left early: {await said}");
        }

        byte[] back = await Eventually.Completes(reading, "s_client's echo", Within);
        Assert.True(data.AsSpan().SequenceEqual(back), $"{back.Length} bytes back of {data.Length}; s_client said: {(client.HasExited ? await said : "")}");

        client.StandardInput.Close(); // s_client sends its close_notify and leaves
        await client.WaitForExitAsync().WaitAsync(Within);
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        var closed = Assert.Single(server.Logs.Named("ConnectionClosed")).Message;
        Assert.Contains("reason=client-closed", closed, StringComparison.Ordinal);
        Assert.Contains("in=200000 B, out=200000 B", closed, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public async Task Socat_half_closes_with_close_notify_then_fin_and_reads_every_byte_to_the_end(string pool)
    {
        await DebianTool.RequireAsync("socat", "socat");
        await using var server = await StartAsync(pool);
        byte[] data = RandomNumberGenerator.GetBytes(200_000);

        // -t: after its input ends (close_notify, then shutdown of the write side), socat waits this long for the rest.
        using var client = Start("socat", "-t", "20", "-", $"OPENSSL:{server.EndPoint},cafile={_certificates.CaPath},commonname=localhost");
        var reading = ReadAsync(client.StandardOutput.BaseStream, int.MaxValue);
        await client.StandardInput.BaseStream.WriteAsync(data);
        client.StandardInput.Close();

        byte[] back = await Eventually.Completes(reading, "socat's output to its end", Within);
        await client.WaitForExitAsync().WaitAsync(Within);
        Assert.True(data.AsSpan().SequenceEqual(back), $"{back.Length} bytes back of {data.Length}; socat said: {await client.StandardError.ReadToEndAsync()}");
        Assert.Equal(0, client.ExitCode);
        await Eventually.True(() => server.Logs.Named("ConnectionClosed").Any(), "the close line");
        var closed = Assert.Single(server.Logs.Named("ConnectionClosed")).Message;
        Assert.Contains("reason=client-closed", closed, StringComparison.Ordinal);
        Assert.Contains("in=200000 B, out=200000 B", closed, StringComparison.Ordinal);
    }

    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    /// <summary>Reads <paramref name="count"/> bytes, or to the end of the stream if it comes first.</summary>
    private static async Task<byte[]> ReadAsync(Stream stream, int count)
    {
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (received.Length < count)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - received.Length)));
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    private Task<TestServer> StartAsync(string pool) =>
        TestServer.StartAsync(PoolKindNames.Parse(pool), o => o with { Tls = new TlsSettings { CertificatePath = _certificates.CertPath, KeyPath = _certificates.KeyPath } });
}
