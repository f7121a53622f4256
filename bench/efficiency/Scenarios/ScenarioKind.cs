namespace Sluice.Efficiency.Scenarios;

/// <summary>The kind of limiter and answers a scenario has, which decides the targets of issue 12 its Sluice rows meet.</summary>
internal enum ScenarioKind
{
    /// <summary>The mock with its rate-limit headers on: the budget is stated in every answer.</summary>
    MockWithHeaders,

    /// <summary>A limiter that states nothing: the mock with its headers off (Retry-After only), or nginx <c>limit_req</c>.</summary>
    Unstated,

    /// <summary>The mock's fault mix: 500s, resets, malformed bodies and hangs.</summary>
    FaultMix,

    /// <summary>Answers that take seconds, under a budget stated in headers.</summary>
    LongAnswers,
}
