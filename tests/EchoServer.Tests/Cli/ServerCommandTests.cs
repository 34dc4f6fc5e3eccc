using System.Net;
using EchoServer.Cli;
using EchoServer.Connections;
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

    [Theory]
    [InlineData(new string[0], ProxyProtocolMode.Off)]
    [InlineData(new[] { "--proxy-protocol" }, ProxyProtocolMode.Required)]
    [InlineData(new[] { "--proxy-protocol", "--port", "0" }, ProxyProtocolMode.Required)]
    [InlineData(new[] { "--proxy-protocol", "required" }, ProxyProtocolMode.Required)]
    [InlineData(new[] { "--proxy-protocol", "optional" }, ProxyProtocolMode.Optional)]
    [InlineData(new[] { "--proxy-protocol=optional" }, ProxyProtocolMode.Optional)]
    internal void Proxy_protocol_given_bare_means_required(string[] args, ProxyProtocolMode expected)
    {
        var command = new ServerCommand();
        var result = command.Root.Parse(args);

        Assert.Empty(result.Errors);
        Assert.Equal(expected, command.Bind(result).ProxyProtocol);
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
        Assert.Equal(ProxyProtocolMode.Required, options.ProxyProtocol);
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
    [InlineData("--admin-host", "example.org", "--admin-host takes an IP address (a dotted quad or an IPv6 literal) such as 127.0.0.1, 0.0.0.0 or :: (got 'example.org').")]
    [InlineData("--admin-host", "127.1", "--admin-host takes an IP address (a dotted quad or an IPv6 literal) such as 127.0.0.1, 0.0.0.0 or :: (got '127.1').")]
    [InlineData("--host", "0x10", "--host takes an IP address (a dotted quad or an IPv6 literal) such as 127.0.0.1, 0.0.0.0 or :: (got '0x10').")]
    [InlineData("--host", "127.1", "--host takes an IP address (a dotted quad or an IPv6 literal) such as 127.0.0.1, 0.0.0.0 or :: (got '127.1').")]
    [InlineData("--host", "1,000", "--host takes an IP address (a dotted quad or an IPv6 literal) such as 127.0.0.1, 0.0.0.0 or :: (got '1,000').")]
    [InlineData("--host", "2130706433", "--host takes an IP address (a dotted quad or an IPv6 literal) such as 127.0.0.1, 0.0.0.0 or :: (got '2130706433').")]
    [InlineData("--trusted-proxies", "0x10", "--trusted-proxies takes comma-separated CIDR ranges such as 10.0.0.0/8,fd00::/8 (got '0x10': '0x10' is not a dotted quad or an IPv6 literal).")]
    [InlineData("--trusted-proxies", "1,000", "--trusted-proxies takes comma-separated CIDR ranges such as 10.0.0.0/8,fd00::/8 (got '1,000': '1' is not a dotted quad or an IPv6 literal).")]
    [InlineData("--trusted-proxies", "10.0.0.0/8,10.1/16", "--trusted-proxies takes comma-separated CIDR ranges such as 10.0.0.0/8,fd00::/8 (got '10.0.0.0/8,10.1/16': '10.1' is not a dotted quad or an IPv6 literal).")]
    [InlineData("--log-level", "99", "--log-level takes one of Trace, Debug, Information, Warning, Error, Critical, None (got '99').")]
    [InlineData("--log-level", "-1", "--log-level takes one of Trace, Debug, Information, Warning, Error, Critical, None (got '-1').")]
    [InlineData("--log-level", "Verbose", "--log-level takes one of Trace, Debug, Information, Warning, Error, Critical, None (got 'Verbose').")]
    [InlineData("--pid-file", "", "--pid-file takes a file path (got '').")]
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
    [InlineData("--idle-timeout", "NaN", "--idle-timeout takes a duration such as 10, 500ms, 2s or 1m (got 'NaN').")]
    [InlineData("--send-timeout", "nan", "--send-timeout takes a duration such as 10, 500ms, 2s or 1m (got 'nan').")]
    [InlineData("--queue-timeout", "-NaN", "--queue-timeout takes a duration such as 10, 500ms, 2s or 1m (got '-NaN').")]
    [InlineData("--stats-interval", "NaNms", "--stats-interval takes a duration such as 10, 500ms, 2s or 1m (got 'NaNms').")]
    [InlineData("--drain-delay", "Infinity", "--drain-delay takes a duration such as 10, 500ms, 2s or 1m (got 'Infinity').")]
    [InlineData("--shutdown-timeout", "NaN", "--shutdown-timeout takes a duration such as 10, 500ms, 2s or 1m (got 'NaN').")]
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

    [Theory]
    [InlineData("trace", LogLevel.Trace)]
    [InlineData("Warning", LogLevel.Warning)]
    [InlineData("NONE", LogLevel.None)]
    public void Log_levels_are_taken_by_name_in_any_case(string value, LogLevel level)
    {
        var command = new ServerCommand();
        var result = command.Root.Parse(["--log-level", value]);

        Assert.Empty(result.Errors);
        Assert.Equal(level, command.Bind(result).LogLevel);
    }

    [Theory]
    [InlineData("20h", "1176h", "20h + 1176h")]
    [InlineData("1176h", "10", "1176h + 10s")] // the default shutdown timeout (10 s) counts too
    [InlineData("1175h", "61m", "1175h + 1.02h")]
    public void A_drain_delay_and_shutdown_timeout_whose_sum_no_timer_can_wait_are_refused(string drain, string shutdown, string got)
    {
        var result = new ServerCommand().Root.Parse(["--drain-delay", drain, "--shutdown-timeout", shutdown]);

        Assert.Equal(
            $"--drain-delay and --shutdown-timeout take at most 1176h (49 days) together, the longest a timer can wait (got {got}).",
            Assert.Single(result.Errors).Message);
    }

    [Fact]
    public void A_drain_delay_alone_counts_the_default_shutdown_timeout()
    {
        var result = new ServerCommand().Root.Parse(["--drain-delay", "1176h"]);

        Assert.Contains("--drain-delay and --shutdown-timeout take at most 1176h", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1h", "1175h")]
    [InlineData("0", "1176h")]
    [InlineData("1175.9h", "60")]
    public void A_drain_delay_and_shutdown_timeout_that_fit_together_are_accepted(string drain, string shutdown)
    {
        var result = new ServerCommand().Root.Parse(["--drain-delay", drain, "--shutdown-timeout", shutdown]);

        Assert.Empty(result.Errors);
    }

    [Fact]
    public void An_out_of_range_duration_is_reported_for_itself_not_as_a_sum()
    {
        var result = new ServerCommand().Root.Parse(["--drain-delay", "1h", "--shutdown-timeout", "1177h"]);

        Assert.Equal("--shutdown-timeout takes at most 1176h (49 days), the longest a timer can wait (got '1177h').", Assert.Single(result.Errors).Message);
    }
}
