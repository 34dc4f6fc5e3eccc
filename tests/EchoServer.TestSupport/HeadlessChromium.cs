using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace EchoServer.TestSupport;

/// <summary>
/// One page open in headless Chromium, driven over the DevTools protocol (a WebSocket): a test reads the page's
/// rendered DOM as often as it likes while the page keeps running, so it sees the page follow the server.
/// The browser is found on PATH or installed once with apt-get (CI runs as root); when neither works the test
/// fails saying why.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private static readonly string[] Candidates = ["chromium-headless-shell", "chromium", "chromium-browser"];

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly StringBuilder _log = new();
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Opens <paramref name="url"/> in a new headless browser of <paramref name="width"/> by <paramref name="height"/> pixels.</summary>
    public static async Task<HeadlessChromium> OpenAsync(Uri url, int width = 1200, int height = 900)
    {
        string browser = await LocateAsync();
        string profile = Directory.CreateTempSubdirectory("echo-chromium-").FullName;
        var start = new ProcessStartInfo(browser) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Environment.UserName == "root")
        {
            start.ArgumentList.Add("--no-sandbox"); // Chromium refuses to run as root with its sandbox
        }

        if (!browser.EndsWith("headless-shell", StringComparison.Ordinal))
        {
            start.ArgumentList.Add("--headless");
        }

        foreach (string arg in (string[])["--disable-gpu", "--no-first-run", "--disable-extensions", "--mute-audio", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}", $"--window-size={width},{height}", url.ToString()])
        {
            start.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = start };
        process.Start();
        var chromium = new HeadlessChromium(process, profile);
        try
        {
            process.OutputDataReceived += chromium.Collect;
            process.ErrorDataReceived += chromium.Collect;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await chromium.ConnectAsync();
            return chromium;
        }
        catch
        {
            await chromium.DisposeAsync();
            throw;
        }
    }

    /// <summary>The browser's path, installing <c>chromium-headless-shell</c> first when none is found.</summary>
    public static Task<string> LocateAsync() =>
        DebianTool.LocateAsync("chromium-headless-shell", "This test renders the live view in headless Chromium", Candidates);

    /// <summary>The page's DOM as it is now; empty while the browser has no document yet.</summary>
    public async Task<string> DomAsync()
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = "document.documentElement ? document.documentElement.outerHTML : ''", ["returnByValue"] = true });
        return result["result"]?["value"]?.GetValue<string>() ?? throw new InvalidOperationException($"Runtime.evaluate answered {result.ToJsonString()}");
    }

    /// <summary>Reads the DOM until <paramref name="rendered"/> holds for it; fails after the deadline with the last DOM.</summary>
    public async Task<string> WaitForDomAsync(Func<string, bool> rendered, string what, TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = within ?? Eventually.Soon;
        while (true)
        {
            string dom = await DomAsync();
            if (rendered(dom))
            {
                return dom;
            }

            if (deadline.Elapsed > limit)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:F0} s waiting for the page to show: {what}. Last DOM:\n{Tail(dom)}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A PNG of the page as it is now.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        return Convert.FromBase64String(result["data"]!.GetValue<string>());
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A crash reporter may still hold a file; the temp folder is cleaned by the system.
        }
    }

    private async Task ConnectAsync()
    {
        // Chromium writes the port it bound (port 0 was asked for) to DevToolsActivePort in the profile.
        string portFile = Path.Combine(_profile, "DevToolsActivePort");
        await Eventually.True(() => _process.HasExited || (File.Exists(portFile) && File.ReadAllLines(portFile).Length >= 2), "Chromium to open its DevTools port");
        if (_process.HasExited)
        {
            Assert.Fail($"Chromium exited with {_process.ExitCode} before opening its DevTools port:\n{Tail(Log())}");
        }

        int port = int.Parse(File.ReadAllLines(portFile)[0], System.Globalization.CultureInfo.InvariantCulture);
        using var http = new HttpClient { Timeout = Eventually.Soon };
        string? pageSocket = null;
        var deadline = Stopwatch.StartNew();
        while (pageSocket is null)
        {
            var targets = JsonNode.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list")))!.AsArray();
            pageSocket = targets.FirstOrDefault(t => t?["type"]?.GetValue<string>() == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
            if (pageSocket is null)
            {
                Assert.True(deadline.Elapsed < Eventually.Soon, $"Chromium listed no page within {Eventually.Soon.TotalSeconds:F0} s");
                await Task.Delay(50);
            }
        }

        using var timeout = new CancellationTokenSource(Eventually.Soon);
        await _socket.ConnectAsync(new Uri(pageSocket!), timeout.Token);
    }

    private async Task<JsonNode> SendAsync(string method, JsonObject parameters)
    {
        int id = ++_nextId;
        using var timeout = new CancellationTokenSource(Eventually.Soon);
        byte[] request = Encoding.UTF8.GetBytes(new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters }.ToJsonString());
        await _socket.SendAsync(request, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            // Events may come before the answer: read messages until the one with our id.
            message.SetLength(0);
            WebSocketReceiveResult received;
            do
            {
                received = await _socket.ReceiveAsync(buffer, timeout.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException($"Chromium closed the DevTools connection:\n{Tail(Log())}");
                }

                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);

            var answer = JsonNode.Parse(message.ToArray())!;
            if (answer["id"]?.GetValue<int>() == id)
            {
                return answer["result"] ?? throw new InvalidOperationException($"{method} failed: {answer.ToJsonString()}");
            }
        }
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        lock (_log)
        {
            _log.AppendLine(e.Data);
        }
    }

    private string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
