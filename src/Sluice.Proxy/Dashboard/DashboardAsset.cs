using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy.Dashboard;

/// <summary>
/// One file of the dashboard, read once from the assembly's embedded resources, with the headers every answer of it
/// carries: its content type, a policy that lets the page load and fetch nothing but from the proxy itself, and an
/// entity tag, so a browser asks again each time (the page must match the running proxy) but re-downloads nothing.
/// </summary>
internal sealed class DashboardAsset
{
    /// <summary>Scripts, styles, images and fetches from the proxy only; no inline script, no framing, no base tag.</summary>
    public const string ContentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private readonly byte[] _content;
    private readonly string _contentType;
    private readonly string _etag;

    private DashboardAsset(byte[] content, string contentType)
    {
        _content = content;
        _contentType = contentType;
        _etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12))}\"";
    }

    /// <summary>Reads <paramref name="name"/> (a file in <c>Dashboard/</c>) from the assembly.</summary>
    /// <exception cref="InvalidOperationException">The build did not embed it.</exception>
    public static DashboardAsset Load(string name, string contentType)
    {
        using var stream = typeof(DashboardAsset).Assembly.GetManifestResourceStream($"Sluice.Proxy.Dashboard.{name}")
            ?? throw new InvalidOperationException($"The dashboard's {name} is not embedded in Sluice.Proxy.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new DashboardAsset(copy.ToArray(), contentType);
    }

    /// <summary>Answers with the file, or 304 when the browser's copy is this one.</summary>
    public Task WriteAsync(HttpContext context)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers.CacheControl = "no-cache";
        headers.ETag = _etag;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (context.Request.Headers.IfNoneMatch.Contains(_etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = _contentType;
        response.ContentLength = _content.Length;
        return response.Body.WriteAsync(_content, context.RequestAborted).AsTask();
    }
}
