namespace Sluice.FairBench;

/// <summary>A tenant the proxy is configured with for a run: its name, weight, priority and key (made for the run).</summary>
internal sealed record TenantSpec(string Name, double Weight, int Priority, string Key);
