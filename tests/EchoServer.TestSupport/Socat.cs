using System.Net;

namespace EchoServer.TestSupport;

/// <summary>
/// socat as an echo server nobody here wrote (<c>PIPE</c>, a process per connection), over TLS
/// (<c>OPENSSL-LISTEN</c>) or plaintext, on 127.0.0.1; found on PATH or installed with apt-get, or the test fails
/// saying why. Killed, and its folder removed, at the end.
/// </summary>
internal sealed class Socat : IDisposable
{
    private readonly ToolProcess _process;

    private Socat(ToolProcess process, IPEndPoint endPoint)
    {
        _process = process;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>What socat wrote so far (an error line per refused handshake).</summary>
    public string Output => _process.Output;

    /// <summary>
    /// A TLS echo server with <paramref name="server"/>'s certificate; with <paramref name="clientCa"/> it requires
    /// a client certificate that file vouches for; <paramref name="maxVersion"/> (e.g. TLS1.2) caps the protocol.
    /// </summary>
    public static Task<Socat> StartTlsAsync(string folder, SelfSignedFiles server, string? clientCa = null, string? maxVersion = null)
    {
        var options = new List<string> { $"cert={server.CertificatePath}", $"key={server.KeyPath}" };
        options.Add(clientCa is null ? "verify=0" : $"verify=1,cafile={clientCa}");
        if (maxVersion is not null)
        {
            options.Add($"openssl-max-proto-version={maxVersion}");
        }

        return StartAsync(folder, "OPENSSL-LISTEN", options);
    }

    /// <summary>A plaintext echo server.</summary>
    public static Task<Socat> StartPlaintextAsync(string folder) => StartAsync(folder, "TCP-LISTEN", []);

    public void Dispose() => _process.Dispose();

    private static async Task<Socat> StartAsync(string folder, string listen, IEnumerable<string> options)
    {
        string socat = await DebianTool.LocateAsync("socat", "these tests need socat as an echo server written elsewhere", "socat");
        var endPoint = new IPEndPoint(IPAddress.Loopback, FreePort.Pick());
        string address = string.Join(',', new[] { $"{listen}:{endPoint.Port}", "bind=127.0.0.1", "reuseaddr", "fork" }.Concat(options));
        var process = ToolProcess.Start("socat", folder, socat, [address, "PIPE"]);
        var started = new Socat(process, endPoint);
        try
        {
            await process.WaitUntilListeningAsync(endPoint);
        }
        catch
        {
            started.Dispose();
            throw;
        }

        return started;
    }
}
