using System.Globalization;
using Sluice.Gate;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// The partition's state read back: from Redis while shared (one round trip: slots held by every process, every budget
/// in force and what it holds now, the pause and the stop), with this process's waiters; from the local share otherwise.
/// </summary>
internal sealed partial class SharedPartition
{
    public override PartitionSnapshot GetSnapshot()
    {
        if (_gate.Mode == GateMode.Shared)
        {
            try
            {
                return SharedSnapshot((RedisResult[])Evaluate("snapshot", [])!);
            }
            catch (Exception e) when (SharedGate.IsUnavailable(e))
            {
                _gate.GoLocal(e);
            }
        }

        return LocalSnapshot();
    }

    private PartitionSnapshot SharedSnapshot(RedisResult[] r)
    {
        double? requests = null;
        double? tokens = null;
        double? requestsPerMinute = null;
        double? tokensPerMinute = null;
        var requestSource = BudgetSource.None;
        var tokenSource = BudgetSource.None;
        var budgets = new List<BudgetSnapshot>();
        for (int i = 6; i + 3 < r.Length; i += 4)
        {
            var dimension = (BudgetDimension)int.Parse((string)r[i]!, CultureInfo.InvariantCulture);
            double limit = Math.Round(Number(r[i + 1]), 6);
            double available = Number(r[i + 2]);
            var source = (string)r[i + 3]! == "2" ? BudgetSource.Headers : BudgetSource.Configured;
            bool daily = dimension >= BudgetDimension.RequestsPerDay;
            budgets.Add(new BudgetSnapshot(dimension, limit, daily ? TimeSpan.FromDays(1) : TimeSpan.FromMinutes(1), available, source));
            if (dimension == BudgetDimension.Requests)
            {
                (requests, requestsPerMinute, requestSource) = (available, limit, source);
            }
            else if (dimension == BudgetDimension.Tokens)
            {
                (tokens, tokensPerMinute, tokenSource) = (available, limit, source);
            }
        }

        long nowMs = (long)Number(r[1]);
        long pauseMs = (long)Number(r[4]);
        string stop = (string)r[5]!;
        int queued;
        lock (_lock)
        {
            queued = _queued;
        }

        return new PartitionSnapshot(
            Key,
            (int)(long)r[2],
            queued,
            (int)(long)r[3],
            requests,
            tokens,
            pauseMs > nowMs ? DateTimeOffset.FromUnixTimeMilliseconds(pauseMs) : null,
            stop.Length == 0 ? null : StopText(stop))
        {
            RequestsPerMinute = requestsPerMinute,
            TokensPerMinute = tokensPerMinute,
            RequestBudgetSource = requestSource,
            TokenBudgetSource = tokenSource,
            Budgets = budgets,
        };
    }
}
