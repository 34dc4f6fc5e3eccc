namespace EchoServer.Connections;

/// <summary>Whether a connection from a trusted proxy starts with a PROXY protocol header (<c>--proxy-protocol</c>).</summary>
internal enum ProxyProtocolMode
{
    /// <summary>No header is read: every connection's bytes are data from the first.</summary>
    Off,

    /// <summary>Every connection starts with a header; one without, or from an untrusted source, is refused (<c>proxy-header</c>).</summary>
    Required,

    /// <summary>A connection from a trusted proxy may start with a header or not, told by its first bytes; any other source's bytes are data.</summary>
    Optional,
}

/// <summary>The one spelling of each <see cref="ProxyProtocolMode"/> a user gives <c>--proxy-protocol</c>.</summary>
internal static class ProxyProtocolModeNames
{
    /// <summary>The values <c>--proxy-protocol</c> takes; given bare, it means the first.</summary>
    public static readonly string[] Given = ["required", "optional"];

    public static ProxyProtocolMode? Parse(string name) => name switch
    {
        "required" => ProxyProtocolMode.Required,
        "optional" => ProxyProtocolMode.Optional,
        _ => null,
    };
}
