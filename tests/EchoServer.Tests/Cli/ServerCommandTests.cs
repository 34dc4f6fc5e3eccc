using System.Net;
using EchoServer.Cli;
using EchoServer.Hosting;
using EchoServer.Pools;
using Microsoft.Extensions.Logging;

namespace EchoServer.Tests.Cli;

public sealed class ServerCommandTests
{
    [Fact]
    public void No_arguments_give_the_documented_defaults()
    {
        var command = new ServerCommand();
        var result = command.Root.Parse([]);

        Assert.Empty(result.Errors);
        Assert.Equal(new ServerOptions { MaxConnectionsIsDefault = true }, command.Bind(result));
    }

    [Fact]
    public void Every_option_maps_to_the_server_options()
    {
        var command = new ServerCommand();
        var result = command.Root.Parse(
        [
            "--host", "::", "--port", "0", "--backlog", "64", "--max-connections", "50", "--pool", "executor",
            "--workers", "10", "--queue", "5", "--when-full", "drop-oldest", "--queue-timeout", "250ms",
            "--buffer-size", "4KiB", "--shutdown-timeout", "3s", "--log-level", "Debug", "--log-format", "json",
            "--idle-timeout", "1m", "--send-timeout", "5s", "--max-connections-per-ip", "8", "--inline-completions", "false",
            "--stats-interval", "2s", "--admin-port", "9100", "--proxy-protocol", "--trusted-proxies", "10.0.0.0/8, fd00::/8,192.0.2.7",
            "--admin-host", "0.0.0.0", "--drain-delay", "4s", "--reuse-port",
        ]);

        Assert.Empty(result.Errors);
        var options = command.Bind(result);
        Assert.Equal(IPAddress.IPv6Any, options.Host);
        Assert.Equal(0, options.Port);
        Assert.Equal(64, options.Backlog);
        Assert.Equal(50, options.MaxConnections);
        Assert.Equal(PoolKind.Executor, options.Pool);
        Assert.Equal(new PoolSettings { Workers = 10, QueueCapacity = 5, WhenFull = WhenFull.DropOldest, QueueTimeout = TimeSpan.FromMilliseconds(250) }, options.PoolSettings);
        Assert.Equal(4096, options.BufferSize);
        Assert.Equal(TimeSpan.FromSeconds(3), options.ShutdownTimeout);
        Assert.Equal(LogLevel.Debug, options.LogLevel);
        Assert.Equal(LogFormat.Json, options.LogFormat);
        Assert.Equal(TimeSpan.FromMinutes(1), options.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.SendTimeout);
        Assert.Equal(8, options.MaxConnectionsPerIp);
        Assert.False(options.InlineCompletions);
        Assert.Equal(TimeSpan.FromSeconds(2), options.StatsInterval);
        Assert.Equal(9100, options.AdminPort);
        Assert.True(options.ProxyProtocol);
        Assert.Equal("10.0.0.0/8,fd00::/8,192.0.2.7/32", options.TrustedProxies.ToString());
        Assert.Equal(IPAddress.Any, options.AdminHost);
        Assert.Equal(TimeSpan.FromSeconds(4), options.DrainDelay);
        Assert.True(options.ReusePort);
    }

    [Fact]
    public void Trusted_proxies_default_to_loopback_and_match_IPv4_mapped_peers_by_their_IPv4_ranges()
    {
        var trusted = new ServerOptions().TrustedProxies;

        Assert.Equal("127.0.0.0/8,::1/128", trusted.ToString());
        Assert.True(trusted.Contains(IPAddress.Parse("127.0.0.1")));
        Assert.True(trusted.Contains(IPAddress.Parse("127.9.9.9")));
        Assert.True(trusted.Contains(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.True(trusted.Contains(IPAddress.IPv6Loopback));
        Assert.False(trusted.Contains(IPAddress.Parse("10.0.0.1")));
        Assert.False(trusted.Contains(IPAddress.Parse("::ffff:10.0.0.1")));
        Assert.False(trusted.Contains(IPAddress.Parse("::2")));
    }

    [Theory]
    [InlineData("--host", "localhost", "127.0.0.1")]
    [InlineData("--host", "0.0.0.0", "0.0.0.0")]
    [InlineData("--host", "[::1]", "::1")]
    [InlineData("--admin-host", "localhost", "127.0.0.1")]
    [InlineData("--admin-host", "::", "::")]
    [InlineData("--admin-host", "10.1.2.3", "10.1.2.3")]
    public void Host_accepts_literals_and_localhost(string option, string value, string expected)
    {
        var command = new ServerCommand();
        var result = command.Root.Parse([option, value]);

        Assert.Empty(result.Errors);
        var options = command.Bind(result);
        Assert.Equal(IPAddress.Parse(expected), option == "--host" ? options.Host : options.AdminHost);
    }

    [Theory]
    [InlineData("--port", "65536", "--port must be between 0 and 65535 (got 65536).")]
    [InlineData("--port", "-1", "--port must be between 0 and 65535 (got -1).")]
    [InlineData("--workers", "0", "--workers must be between 1 and 100000 (got 0).")]
    [InlineData("--max-connections", "0", "--max-connections must be between 1 and 1000000 (got 0).")]
    [InlineData("--buffer-size", "0", "--buffer-size takes a size from 1 to 16MiB such as 16384 or 16KiB (got '0').")]
    [InlineData("--port", "abc", "--port takes a whole number from 0 to 65535 (got 'abc').")]
    [InlineData("--port", "", "--port takes a whole number from 0 to 65535 (got '').")]
    [InlineData("--port", "99999999999999999999", "--port takes a whole number from 0 to 65535 (got '99999999999999999999').")]
    [InlineData("--workers", "1e3", "--workers takes a whole number from 1 to 100000 (got '1e3').")]
    [InlineData("--admin-port", "abc", "--admin-port takes a whole number from 0 to 65535 (got 'abc').")]
    [InlineData("--admin-port", "65536", "--admin-port must be between 0 and 65535 (got 65536).")]
    [InlineData("--admin-host", "example.org", "--admin-host takes an IP address such as 127.0.0.1, 0.0.0.0 or :: (got 'example.org').")]
    [InlineData("--drain-delay", "soon", "--drain-delay takes a duration such as 10, 500ms, 2s or 1m (got 'soon').")]
    [InlineData("--shutdown-timeout", "soon", "--shutdown-timeout takes a duration such as 10, 500ms, 2s or 1m (got 'soon').")]
    [InlineData("--shutdown-timeout", "1200h", "--shutdown-timeout takes at most 1176h (49 days), the longest a timer can wait (got '1200h').")]
    [InlineData("--stats-interval", "4320000", "--stats-interval takes at most 1176h (49 days), the longest a timer can wait (got '4320000').")]
    [InlineData("--idle-timeout", "72000m", "--idle-timeout takes at most 1176h (49 days), the longest a timer can wait (got '72000m').")]
    [InlineData("--send-timeout", "1177h", "--send-timeout takes at most 1176h (49 days), the longest a timer can wait (got '1177h').")]
    [InlineData("--queue-timeout", "5000h", "--queue-timeout takes at most 1176h (49 days), the longest a timer can wait (got '5000h').")]
    [InlineData("--trusted-proxies", "10.0.0.0/33", "--trusted-proxies takes comma-separated CIDR ranges such as 10.0.0.0/8,fd00::/8 (got '10.0.0.0/33': '10.0.0.0/33' is not a CIDR range).")]
    [InlineData("--trusted-proxies", "10.0.0.0/8,proxy.local", "--trusted-proxies takes comma-separated CIDR ranges such as 10.0.0.0/8,fd00::/8 (got '10.0.0.0/8,proxy.local': 'proxy.local' is not a CIDR range).")]
    [InlineData("--trusted-proxies", "10.0.0.0/8,", "--trusted-proxies takes comma-separated CIDR ranges such as 10.0.0.0/8,fd00::/8 (got '10.0.0.0/8,': an empty entry).")]
    public void Invalid_values_give_a_clear_error(string option, string value, string message)
    {
        var result = new ServerCommand().Root.Parse([option, value]);

        Assert.Equal(message, Assert.Single(result.Errors).Message);
    }

    [Theory]
    [InlineData("--shutdown-timeout")]
    [InlineData("--stats-interval")]
    [InlineData("--idle-timeout")]
    [InlineData("--send-timeout")]
    [InlineData("--queue-timeout")]
    public void Durations_up_to_49_days_are_accepted(string option)
    {
        var result = new ServerCommand().Root.Parse([option, "1176h"]);

        Assert.Empty(result.Errors);
    }
}
