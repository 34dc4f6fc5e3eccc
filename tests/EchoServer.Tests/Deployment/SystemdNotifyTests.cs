using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using EchoServer.TestSupport;

namespace EchoServer.Tests.Deployment;

/// <summary>
/// The sd_notify protocol as a <c>Type=notify</c> unit sees it: a Unix datagram socket named by NOTIFY_SOCKET
/// gets READY=1 once the echo listener is bound, and STOPPING=1 when SIGTERM starts the drain.
/// </summary>
public sealed class SystemdNotifyTests
{
    [Fact]
    public async Task READY_arrives_only_after_the_listener_is_bound_and_STOPPING_at_SIGTERM()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // systemd
        }

        using var notify = new NotifySocket();
        string pidFile = Path.Combine(Path.GetTempPath(), $"echo-notify-{Guid.NewGuid():N}.pid");
        notify.PidFile = pidFile;
        using var server = ServerProcess.StartWithEnvironment(
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path },
            "--port", "0", "--admin-port", "0", "--pid-file", pidFile, "--drain-delay", "1s");

        await Eventually.True(() => notify.Received.Any(m => m.Text.Contains("READY=1", StringComparison.Ordinal)), "READY=1");
        var ready = notify.Received.First(m => m.Text.Contains("READY=1", StringComparison.Ordinal));
        Assert.True(ready.PidFileExisted, "READY=1 came before the listener was bound (the pid file is written at the bind)");
        var endPoint = await server.WaitForListeningAsync();
        await server.WaitForAdminPortAsync();
        int listening = server.Stdout.ToList().FindIndex(l => l.Contains("Listening on", StringComparison.Ordinal));
        Assert.Equal(0, listening);
        using (var client = await EchoClient.ConnectAsync(endPoint))
        {
            Assert.Equal([5], await client.RoundTripAsync([5]));
        }

        Assert.DoesNotContain(notify.Received, m => m.Text.Contains("STOPPING=1", StringComparison.Ordinal));

        server.Terminate();

        await Eventually.True(() => notify.Received.Any(m => m.Text.Contains("STOPPING=1", StringComparison.Ordinal)), "STOPPING=1 after SIGTERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Single(notify.Received, m => m.Text.Contains("READY=1", StringComparison.Ordinal));
        Assert.Single(notify.Received, m => m.Text.Contains("STOPPING=1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_that_cannot_bind_never_says_READY()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // systemd
        }

        using var notify = new NotifySocket();
        using var first = ServerProcess.Start("--port", "0");
        var taken = await first.WaitForListeningAsync();

        using var second = ServerProcess.StartWithEnvironment(
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path },
            "--port", taken.Port.ToString(CultureInfo.InvariantCulture));

        Assert.Equal(1, await second.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.DoesNotContain(notify.Received, m => m.Text.Contains("READY=1", StringComparison.Ordinal));
    }

    /// <summary>A Unix datagram socket standing in for systemd's notification socket; it notes, for each message, whether the pid file existed when it came.</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly ConcurrentQueue<(string Text, bool PidFileExisted)> _received = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public NotifySocket()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"echo-notify-{Guid.NewGuid():N}.sock");
            _socket.Bind(new UnixDomainSocketEndPoint(Path));
            _loop = Task.Run(ReceiveAsync);
        }

        public string Path { get; }

        /// <summary>Set by the test before the server starts: the file whose existence each message records.</summary>
        public string? PidFile { get; set; }

        public IReadOnlyList<(string Text, bool PidFileExisted)> Received => [.. _received];

        public void Dispose()
        {
            _stop.Cancel();
            _socket.Dispose();
            _loop.Wait(TimeSpan.FromSeconds(5));
            _stop.Dispose();
            File.Delete(Path);
        }

        private async Task ReceiveAsync()
        {
            var buffer = new byte[4096];
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    _received.Enqueue((Encoding.UTF8.GetString(buffer, 0, n), PidFile is { } file && File.Exists(file)));
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Disposed.
            }
        }
    }
}
