namespace Sluice.Mock.Faults;

/// <summary>The faults the mock injects; their stats names are in <see cref="FaultKinds.StatsName(FaultKind)"/>.</summary>
internal enum FaultKind
{
    None,
    InternalServerError,
    BadGateway,
    ServiceUnavailable,
    Overloaded,
    ConnectionReset,
    Hang,
    MalformedBody,
    StreamCut,
    AuthExpired,
    QuotaExhausted,
    ContextLengthExceeded,
}

internal static class FaultKinds
{
    /// <summary>The key under <c>faults</c> in <c>GET /mock/stats</c>.</summary>
    public static string StatsName(this FaultKind kind) => kind switch
    {
        FaultKind.InternalServerError => "server_error_500",
        FaultKind.BadGateway => "bad_gateway_502",
        FaultKind.ServiceUnavailable => "service_unavailable_503",
        FaultKind.Overloaded => "overloaded_529",
        FaultKind.ConnectionReset => "connection_reset",
        FaultKind.Hang => "hang",
        FaultKind.MalformedBody => "malformed_body",
        FaultKind.StreamCut => "stream_cut",
        FaultKind.AuthExpired => "auth_expired_401",
        FaultKind.QuotaExhausted => "insufficient_quota",
        FaultKind.ContextLengthExceeded => "context_length_exceeded",
        _ => "none",
    };
}
