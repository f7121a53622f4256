namespace Sluice.Gate;

/// <summary>What a caller asks the gate for.</summary>
/// <param name="Tokens">Estimated token cost to reserve; settled later with <see cref="GateLease.Settle"/>. Zero when unknown.</param>
/// <param name="Priority">Higher is served first; among equal priorities, first come first served.</param>
/// <param name="AtFront">
/// Queue ahead of every waiter of the same priority: for work that was already admitted once and must go again,
/// such as a request the provider throttled.
/// </param>
public readonly record struct AdmissionRequest(long Tokens = 0, int Priority = 0, bool AtFront = false);
