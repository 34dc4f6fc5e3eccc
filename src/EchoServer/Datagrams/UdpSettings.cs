namespace EchoServer.Datagrams;

/// <summary>The UDP echo's own settings (the pool's come from <see cref="Pools.PoolSettings"/>, shared with TCP).</summary>
internal sealed record UdpSettings
{
    /// <summary>The default per-address budget: see <see cref="RatePerIp"/>.</summary>
    public const int DefaultRatePerIp = 1000;

    /// <summary>
    /// Datagrams per second echoed to one source address; 0 for no limit. A UDP echo answers whoever the
    /// source address claims to be, so a spoofed source turns it into a reflector aimed at that address: the
    /// budget caps what any one address can receive from us (1,000 a second: about 1.5 MB/s at a typical
    /// 1,472-byte payload), far above what a person or a health check sends, well below a flood.
    /// </summary>
    public int RatePerIp { get; init; } = DefaultRatePerIp;

    /// <summary>Also answer source ports 1 to 1023 (port 0 never): off by default, as those are services' ports (echo and chargen answering each other forever).</summary>
    public bool AllowLowPorts { get; init; }
}
