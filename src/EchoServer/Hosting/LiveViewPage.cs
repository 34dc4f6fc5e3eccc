using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace EchoServer.Hosting;

/// <summary>
/// The live view's page, stylesheet and script, embedded in the assembly (no CDN, no build step: the page works
/// offline) and read once. The page may load nothing but these and <c>/snapshot.json</c>: its
/// Content-Security-Policy allows the endpoint's own origin only, and no inline script or style.
/// </summary>
internal static class LiveViewPage
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (byte[] Body, string ContentType)> Assets = new Dictionary<string, (byte[], string)>
    {
        ["/"] = (Read("index.html"), "text/html; charset=utf-8"),
        ["/live-view.css"] = (Read("live-view.css"), "text/css; charset=utf-8"),
        ["/live-view.js"] = (Read("live-view.js"), "text/javascript; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The paths the page is served from.</summary>
    public static IEnumerable<string> Paths => Assets.Keys;

    /// <summary>
    /// Answers one of <see cref="Paths"/> (a RequestDelegate: no reflection, as Native AOT needs). Routing matches
    /// without regard to case and takes a trailing slash: <c>/LIVE-VIEW.JS</c> and <c>/live-view.js/</c> reach
    /// here too, and are not the page's assets.
    /// </summary>
    public static Task Serve(HttpContext context)
    {
        if (!Assets.TryGetValue(context.Request.Path.Value ?? "/", out var asset))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        var (body, contentType) = asset;
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        return Results.Bytes(body, contentType).ExecuteAsync(context);
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(LiveViewPage).Assembly.GetManifestResourceStream($"LiveView/{name}")
            ?? throw new InvalidOperationException($"The live view's {name} is not embedded in the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
