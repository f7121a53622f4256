using System.Diagnostics;

namespace Sluice.Telemetry;

/// <summary>The names and sources Sluice reports under, for OpenTelemetry and <c>dotnet-counters</c>.</summary>
public static class SluiceTelemetry
{
    /// <summary>The name of Sluice's <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string Name = "Sluice";

    internal static readonly string Version =
        typeof(SluiceTelemetry).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Spans: <c>sluice.job</c> for a job from start to end, and <c>sluice.attempt</c> for each attempt.</summary>
    internal static readonly ActivitySource ActivitySource = new(Name, Version);
}
