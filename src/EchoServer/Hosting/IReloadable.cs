namespace EchoServer.Hosting;

/// <summary>Something SIGHUP reloads (a certificate, say): registered as a service, run by <see cref="ReloadHook"/>.</summary>
internal interface IReloadable
{
    /// <summary>What is reloaded, for the log line.</summary>
    string Name { get; }

    /// <summary>Reloads. True with what is in use now; false with why the new one cannot be used (the old one stays).</summary>
    bool TryReload(out string said);
}
