namespace EchoServer.Hosting;

/// <summary>The console formatters on offer.</summary>
internal enum LogFormat
{
    /// <summary>One line per event, with a UTC timestamp.</summary>
    Simple,

    /// <summary>One JSON object per line.</summary>
    Json,

    /// <summary>systemd journal style with syslog priority prefixes.</summary>
    Systemd,
}
