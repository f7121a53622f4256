using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Sluice.Proxy.Dashboard;

/// <summary>
/// The dashboard: <c>GET /sluice/</c> serves one page, whose script and styles come from <c>/sluice/assets/</c>, and
/// which reads <c>/sluice/status</c> every second (with the key the user types, when the status asks for one). The
/// page holds no data and no key itself, so it needs none; <c>/sluice</c> redirects to it so relative links resolve.
/// </summary>
internal static class DashboardEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var page = DashboardAsset.Load("index.html", "text/html; charset=utf-8");
        var script = DashboardAsset.Load("app.js", "text/javascript; charset=utf-8");
        var styles = DashboardAsset.Load("app.css", "text/css; charset=utf-8");
        // Routing matches /sluice and /sluice/ alike: the trailing slash decides between the page and the redirect.
        endpoints.MapGet("/sluice", context =>
        {
            if (context.Request.Path.Value?.EndsWith('/') == true)
            {
                return page.WriteAsync(context);
            }

            context.Response.Redirect("sluice/");
            return Task.CompletedTask;
        });
        endpoints.MapGet("/sluice/assets/app.js", script.WriteAsync);
        endpoints.MapGet("/sluice/assets/app.css", styles.WriteAsync);
    }
}
