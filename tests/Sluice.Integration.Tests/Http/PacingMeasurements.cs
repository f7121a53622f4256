namespace Sluice.Integration.Tests.Http;

/// <summary>
/// Tests that measure pacing against a provider (how many attempts were throttled) run alone: a crash test killing
/// processes on the other core stalls the client for a second and lets requests reach the mock in a clump, which
/// measures the machine, not Sluice.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PacingMeasurements
{
    public const string Name = "Pacing measurements";
}
