using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>
/// Fair share among the tenants of this process's waiters: within a priority, start-time fair queuing with the tags
/// given on arrival (S = max(V, F) of the waiter's tenant, F = S + cost ÷ weight; served smallest S first, V the S of
/// the last admitted). The cost is the admission's largest share of the configured budgets (1 when none): what
/// Redis learns from headers and settlements is not seen here. No aging, no tenants' own limits, no tenant
/// snapshots: the in-process gate has those. Shares are of what this process gets, never coordinated between processes.
/// </summary>
internal sealed partial class SharedPartition
{
    // Finish tags are kept for this many tenants at most; a tag at or behind V says nothing and is dropped first.
    private const int MaxTenantTags = 1_000;

    private readonly Dictionary<string, double> _finishTags = new(StringComparer.Ordinal);
    private double _virtualTime;

    /// <summary>
    /// The start tag of <paramref name="request"/> if it came now; <paramref name="charge"/>: it does, and its tenant's
    /// finish tag moves on. Requeued work (<see cref="AdmissionRequest.AtFront"/>) starts at V, first of its tenant.
    /// </summary>
    private double StartTagLocked(AdmissionRequest request, bool charge)
    {
        string name = request.Tenant?.Name ?? "default";
        bool known = _finishTags.TryGetValue(name, out double finish);
        double start = request.AtFront || !known ? _virtualTime : Math.Max(_virtualTime, finish);
        if (charge)
        {
            double next = Math.Max(start, known ? finish : start) + (FairCostLocked(request) / (request.Tenant?.Weight ?? 1));
            if (!known && _finishTags.Count >= MaxTenantTags)
            {
                foreach (var (tenant, tag) in _finishTags)
                {
                    if (tag <= _virtualTime)
                    {
                        _finishTags.Remove(tenant);
                    }
                }
            }

            // Past the bound (every tenant busy), a newcomer goes untracked: it starts at V each time.
            if (known || _finishTags.Count < MaxTenantTags)
            {
                _finishTags[name] = next;
            }
        }

        return start;
    }

    /// <summary>Virtual time moves to the start tag of the waiter admitted.</summary>
    private void StartedLocked(double start) => _virtualTime = Math.Max(_virtualTime, start);

    private double FairCostLocked(AdmissionRequest request)
    {
        double seconds = _limits.Window.TotalSeconds;
        double cost = _limits.RequestsPerWindow is { } requests && requests > 0 ? seconds / requests : 0;
        if (_limits.TokensPerWindow is { } tokens && tokens > 0 && request.Tokens > 0)
        {
            cost = Math.Max(cost, request.Tokens * seconds / tokens);
        }

        return cost > 0 ? cost : 1;
    }
}
