using Microsoft.Extensions.Logging;

namespace Sluice.Proxy;

/// <summary>The proxy's logs (category <c>Sluice.Proxy</c>, event ids 300–399). None carries a header or a key.</summary>
internal static partial class ProxyLog
{
    public const string Category = "Sluice.Proxy";

    [LoggerMessage(301, LogLevel.Warning, "Refused a {Method} request: {Reason}")]
    public static partial void Refused(ILogger logger, string method, string reason);

    [LoggerMessage(302, LogLevel.Warning, "Upstream {Upstream} gave no usable answer ({Reason}): {Error}")]
    public static partial void UpstreamFailed(ILogger logger, string upstream, string reason, string error);

    [LoggerMessage(304, LogLevel.Information, "Partition {Partition} resumed after being stopped {Elapsed} ago ({Reason}); the next request tries the upstream again")]
    public static partial void Resumed(ILogger logger, string partition, TimeSpan elapsed, string reason);
}
