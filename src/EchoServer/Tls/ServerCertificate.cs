using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EchoServer.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tls;

/// <summary>
/// The certificate new handshakes get, and its reload: loaded at start (a mistake stops the start with one line),
/// then again on SIGHUP or when its files change (checked every second; a change is loaded once the files have
/// stayed the same for a check, so a file caught half written is not taken for a bad one). A new file that cannot
/// be used leaves the one in use, and a line says why. Connections already open keep the certificate they shook
/// hands with.
/// </summary>
internal sealed class ServerCertificate(TlsSettings settings, ILogger logger, BackgroundFaults faults) : IDisposable
{
    /// <summary>How often the files are compared with what was loaded.</summary>
    public static readonly TimeSpan WatchPeriod = TimeSpan.FromSeconds(1);

    private readonly Lock _reloading = new();
    private State? _state;
    private byte[]? _changed;
    private Timer? _watch;

    public TlsSettings Settings => settings;

    /// <summary>What new handshakes get now.</summary>
    public LoadedCertificate Current => (Volatile.Read(ref _state) ?? throw new InvalidOperationException("Load first.")).Certificate;

    /// <summary>The handshake's options for a new connection, with the current certificate.</summary>
    public SslServerAuthenticationOptions Options => (Volatile.Read(ref _state) ?? throw new InvalidOperationException("Load first.")).Options;

    /// <summary>Loads the certificate for the first time and starts watching its files; throws <see cref="TlsSetupException"/>.</summary>
    public void Load()
    {
        var loaded = CertificateLoader.Load(settings);
        Volatile.Write(ref _state, new State(loaded, BuildOptions(loaded), FilesHash()));
        if (settings.Files.Count > 0 && !settings.SelfSigned)
        {
            _watch = faults.StartTimer("The TLS file watch", CheckFiles, WatchPeriod, WatchPeriod);
        }
    }

    /// <summary>Loads the files again (SIGHUP registers it only for files); on success new handshakes get the new certificate. False, with why, when they cannot be used (the old one stays).</summary>
    public bool TryReload(out string said)
    {
        lock (_reloading)
        {
            byte[]? hash = FilesHash();
            try
            {
                var loaded = CertificateLoader.Load(settings);
                Volatile.Write(ref _state, new State(loaded, BuildOptions(loaded), hash));
                _changed = null;
                said = loaded.Description;
                if (loaded.DateProblem(DateTimeOffset.UtcNow) is { } problem)
                {
                    TlsLog.DateProblem(logger, problem);
                }

                return true;
            }
            catch (TlsSetupException ex)
            {
                _state = _state! with { FilesHash = hash }; // the same bad files are not tried again until they change
                said = ex.Message;
                return false;
            }
        }
    }

    public void Dispose() => _watch?.Dispose();

    /// <summary>Runs on the watch timer: a change seen, then the same files a second later, is loaded.</summary>
    private void CheckFiles()
    {
        byte[]? hash = FilesHash();
        lock (_reloading)
        {
            if (hash is null || (_state?.FilesHash is { } loaded && loaded.AsSpan().SequenceEqual(hash)))
            {
                _changed = null;
                return;
            }

            if (_changed is null || !_changed.AsSpan().SequenceEqual(hash))
            {
                _changed = hash; // still being written, perhaps: wait for a check that sees the same
                return;
            }

            if (TryReload(out string said))
            {
                TlsLog.FilesReloaded(logger, said);
            }
            else
            {
                TlsLog.FilesRefused(logger, Current.Description, said);
            }
        }
    }

    /// <summary>A hash of every file's content (a missing file hashes as empty); null when none can be read now.</summary>
    private byte[]? FilesHash()
    {
        if (settings.SelfSigned)
        {
            return null;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        bool any = false;
        foreach (string file in settings.Files)
        {
            try
            {
                hash.AppendData(File.ReadAllBytes(file));
                any = true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                hash.AppendData([0]); // gone for now (a rename in progress): a change too
            }

            hash.AppendData([0xff]);
        }

        return any ? hash.GetHashAndReset() : null;
    }

    private SslServerAuthenticationOptions BuildOptions(LoadedCertificate loaded)
    {
        var mode = settings.ClientCertificate;
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(loaded.Certificate, loaded.Chain, offline: true),
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            AllowRenegotiation = false,
            ClientCertificateRequired = mode != ClientCertificateMode.None,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (mode == ClientCertificateMode.None)
        {
            return options;
        }

        if (loaded.ClientCas is { } cas)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(cas);
            options.CertificateChainPolicy = policy;
        }

        options.RemoteCertificateValidationCallback = (sender, certificate, _, errors) => Accept(sender as TlsStream, certificate, errors, mode);
        return options;
    }

    private static bool Accept(TlsStream? stream, X509Certificate? certificate, SslPolicyErrors errors, ClientCertificateMode mode)
    {
        string? problem = errors switch
        {
            SslPolicyErrors.None => null,
            SslPolicyErrors.RemoteCertificateNotAvailable when mode == ClientCertificateMode.Optional => null,
            SslPolicyErrors.RemoteCertificateNotAvailable => "no client certificate (--tls-client-cert require)",
            _ => $"the client certificate {certificate?.Subject} does not verify ({errors})",
        };
        if (problem is not null && stream is not null)
        {
            stream.CertificateProblem = problem;
        }

        return problem is null;
    }

    private sealed record State(LoadedCertificate Certificate, SslServerAuthenticationOptions Options, byte[]? FilesHash);
}
