using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace EchoServer.TestSupport;

/// <summary>
/// HAProxy (<c>mode tcp</c>) as a test's load balancer, either with one frontend per server option or with
/// scripts/deploy/haproxy.cfg as shipped; a stats socket reports each server's state. HAProxy is found on PATH or
/// in /usr/sbin, or installed once with apt-get (CI runs as root); when neither works the test fails saying why.
/// </summary>
internal sealed partial class Haproxy : IDisposable
{
    private readonly ToolProcess _process;
    private readonly string _statsSocket;

    private Haproxy(ToolProcess process, string statsSocket, IReadOnlyList<IPEndPoint> frontends)
    {
        _process = process;
        _statsSocket = statsSocket;
        Frontends = frontends;
    }

    /// <summary>The shipped configuration, scripts/deploy/haproxy.cfg.</summary>
    public static string ShippedConfig => Path.Combine(Repository.Root, "scripts", "deploy", "haproxy.cfg");

    /// <summary>Where clients connect, in the order they were asked for.</summary>
    public IReadOnlyList<IPEndPoint> Frontends { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>What HAProxy wrote so far (its alerts and, with the shipped file, one log line per connection).</summary>
    public string Output => _process.Output;

    /// <summary>The shipped file's server lines, in order.</summary>
    public static IReadOnlyList<ShippedServer> ShippedServers() =>
        File.ReadLines(ShippedConfig).Select(l => ServerLine().Match(l)).Where(m => m.Success)
            .Select(m => new ShippedServer(m.Groups["name"].Value, m.Groups["address"].Value, int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["check"].Value, CultureInfo.InvariantCulture), m.Groups["options"].Value.Trim()))
            .ToList();

    /// <summary>
    /// Starts HAProxy with one frontend for each of <paramref name="serverOptions"/> (e.g. <c>send-proxy-v2</c>),
    /// each forwarding to <paramref name="backend"/> with those options; returns once every frontend listens.
    /// </summary>
    public static Task<Haproxy> StartAsync(IPEndPoint backend, params string[] serverOptions) => StartBindingAsync(backend, string.Empty, serverOptions);

    /// <summary>As <see cref="StartAsync"/>, with <paramref name="bindOptions"/> on every frontend's bind line (e.g. <c>accept-proxy</c>).</summary>
    public static Task<Haproxy> StartBindingAsync(IPEndPoint backend, string bindOptions, params string[] serverOptions)
    {
        var frontends = serverOptions.Select(_ => new IPEndPoint(IPAddress.Loopback, FreePort.Pick())).ToList();
        var config = new StringBuilder("""
            defaults
              mode tcp
              timeout connect 5s
              timeout client 30s
              timeout server 30s

            """);
        for (int i = 0; i < frontends.Count; i++)
        {
            config.Append(CultureInfo.InvariantCulture, $"""
                frontend in{i}
                  bind {frontends[i]} {bindOptions}
                  default_backend out{i}

                backend out{i}
                  server echo{i} {backend} {serverOptions[i]}

                """);
        }

        return LaunchAsync(config.ToString(), frontends, descriptorLimit: null);
    }

    /// <summary>
    /// Starts HAProxy with scripts/deploy/haproxy.cfg as shipped, but for its frontend, bound to a free loopback
    /// port, and its server lines: the i-th one keeps its name and options and points at <paramref name="instances"/>[i]
    /// (echo endpoint, admin port for the health check); shipped lines beyond the instances are left out. Under
    /// <paramref name="descriptorLimit"/> when given; returns once the frontend listens.
    /// </summary>
    public static Task<Haproxy> StartShippedAsync(IReadOnlyList<(IPEndPoint Echo, int AdminPort)> instances, int? descriptorLimit = null)
    {
        var servers = ShippedServers();
        Assert.True(instances.Count <= servers.Count, $"{ShippedConfig} has {servers.Count} server lines, {instances.Count} instances asked for");
        var frontend = new IPEndPoint(IPAddress.Loopback, FreePort.Pick());
        var config = new StringBuilder();
        int server = 0;
        foreach (string line in File.ReadLines(ShippedConfig))
        {
            string trimmed = line.TrimStart();
            string indent = line[..(line.Length - trimmed.Length)];
            if (ServerLine().IsMatch(line))
            {
                if (server < instances.Count)
                {
                    var (name, options) = (servers[server].Name, servers[server].Options);
                    config.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{indent}server {name} {instances[server].Echo} port {instances[server].AdminPort} {options}").TrimEnd());
                }

                server++;
                continue;
            }

            config.AppendLine(trimmed.StartsWith("bind ", StringComparison.Ordinal) ? $"{indent}bind {frontend}" : line);
        }

        return LaunchAsync(config.ToString(), [frontend], descriptorLimit);
    }

    /// <summary>Each server's state as HAProxy sees it (UP, DOWN, ...), by name; empty while the stats socket is not there yet.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ServerStatesAsync()
    {
        if (!File.Exists(_statsSocket))
        {
            return new Dictionary<string, string>();
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_statsSocket));
        await socket.SendAsync("show stat\n"u8.ToArray(), SocketFlags.None);
        var text = new StringBuilder();
        var buffer = new byte[8192];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        // CSV: pxname, svname, ..., status is the 18th field; BACKEND and FRONTEND rows are the proxies themselves.
        return text.ToString().Split('\n')
            .Select(l => l.Split(','))
            .Where(f => f.Length > 17 && !f[0].StartsWith('#') && f[1] is not ("BACKEND" or "FRONTEND"))
            .ToDictionary(f => f[1], f => f[17]);
    }

    /// <summary>Waits until the servers' states satisfy <paramref name="condition"/>; fails saying <paramref name="what"/> and the states seen.</summary>
    public async Task WaitForServersAsync(Func<IReadOnlyDictionary<string, string>, bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition(await ServerStatesAsync()))
        {
            Assert.False(HasExited, $"haproxy exited:\n{Output}");
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting for {what}: {string.Join(", ", (await ServerStatesAsync()).Select(s => $"{s.Key}={s.Value}"))}");
            await Task.Delay(100);
        }
    }

    public void Dispose() => _process.Dispose();

    private static async Task<Haproxy> LaunchAsync(string config, IReadOnlyList<IPEndPoint> frontends, int? descriptorLimit)
    {
        string haproxy = await DebianTool.LocateAsync("haproxy", "This test puts HAProxy in front of the server", "haproxy");
        string folder = Directory.CreateTempSubdirectory("echo-haproxy-").FullName;
        string stats = Path.Combine(folder, "stats.sock");
        int probe = FreePort.Pick();

        // A second global section adds to the first; the probe frontend is bound with the others, so once it
        // answers every frontend is in place.
        string path = Path.Combine(folder, "haproxy.cfg");
        await File.WriteAllTextAsync(path, config + $"""

            global
              stats socket {stats} level admin

            frontend probe
              mode tcp
              bind 127.0.0.1:{probe}
              tcp-request connection reject

            """);
        var proxy = new Haproxy(ToolProcess.Start("HAProxy", folder, haproxy, ["-db", "-f", path], descriptorLimit), stats, frontends);
        try
        {
            await proxy._process.WaitUntilListeningAsync(new IPEndPoint(IPAddress.Loopback, probe));
            return proxy;
        }
        catch
        {
            proxy.Dispose();
            throw;
        }
    }

    [GeneratedRegex(@"^\s*server\s+(?<name>\S+)\s+(?<address>[^\s:]+):(?<port>\d+)\s+port\s+(?<check>\d+)(?<options>.*)$")]
    private static partial Regex ServerLine();
}

/// <summary>One server line of scripts/deploy/haproxy.cfg: its name, address, echo port, health-check port and other options.</summary>
internal sealed record ShippedServer(string Name, string Address, int Port, int CheckPort, string Options);
