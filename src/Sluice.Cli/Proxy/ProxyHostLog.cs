using Microsoft.Extensions.Logging;

namespace Sluice.Cli.Proxy;

/// <summary>The <c>sluice proxy</c> host's own logs (category <c>Sluice.Proxy</c>, event ids 350–359): where it listens, when it drains.</summary>
internal static partial class ProxyHostLog
{
    [LoggerMessage(350, LogLevel.Information, "sluice proxy listening on {Address}; upstreams: {Upstreams}")]
    public static partial void Listening(ILogger logger, string address, string upstreams);

    [LoggerMessage(351, LogLevel.Information, "Draining: {InFlight} requests in flight may finish within {Timeout}")]
    public static partial void Draining(ILogger logger, int inFlight, TimeSpan timeout);
}
