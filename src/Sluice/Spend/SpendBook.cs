using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Providers;
using Sluice.Telemetry;

namespace Sluice.Spend;

/// <summary>
/// An engine's money: its price table, each partition's daily cap (<c>MaxSpendPerDay</c>), the models already said to
/// have no price, and the spend instruments. Knows nothing of requests or answers; the engine asks it.
/// </summary>
/// <remarks>
/// A partition's cap lives while the gate holds the partition. When the gate removes an idle partition, a cap with
/// money settled in its current day is kept aside (at most as many as the gate holds partitions) and taken up again if
/// the partition comes back the same day, so a partition that idles past <c>PartitionIdleTimeout</c> does not start
/// its day afresh; a cap with nothing settled today is dropped.
/// </remarks>
internal sealed class SpendBook : IDisposable
{
    /// <summary>The most models remembered as unpriced, so a caller naming endless models cannot grow the set.</summary>
    internal const int MaxUnpricedRemembered = 1_000;

    private readonly ProviderKind _provider;
    private readonly decimal? _maxSpendPerDay;
    private readonly int _maxRetired;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SpendMetrics _metrics;
    private readonly ConcurrentDictionary<string, SpendCap> _caps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SpendCap> _retired = new(StringComparer.Ordinal);
    private readonly Lock _capsLock = new();
    private readonly ConcurrentDictionary<string, byte> _unpriced = new(StringComparer.Ordinal);

    public SpendBook(PriceTable prices, ProviderKind provider, decimal? maxSpendPerDay, int maxPartitions, TimeProvider time, ILogger logger, IMeterFactory? meterFactory)
    {
        Prices = prices;
        _provider = provider;
        _maxSpendPerDay = maxSpendPerDay;
        _maxRetired = maxPartitions;
        _time = time;
        _logger = logger;
        _metrics = new SpendMetrics(meterFactory, Reserved);
    }

    public PriceTable Prices { get; }

    /// <summary>Partitions' caps held now, for tests.</summary>
    internal int CapsHeld => _caps.Count;

    /// <summary>Caps kept aside for partitions the gate removed, for tests.</summary>
    internal int CapsRetired
    {
        get
        {
            lock (_capsLock)
            {
                return _retired.Count;
            }
        }
    }

    /// <summary>
    /// A model's price, or <see langword="null"/>: a model the table does not list is said once in the log; a request
    /// that names no model has nothing to add to a prices file, and is not said.
    /// </summary>
    public ModelPrice? PriceOf(string? model)
    {
        if (model is null)
        {
            return null;
        }

        if (Prices.TryFind(_provider, model, out var price))
        {
            return price;
        }

        if (_unpriced.Count < MaxUnpricedRemembered && _unpriced.TryAdd(model, 0))
        {
            Log.ModelUnpriced(_logger, model, _provider, Prices.AsOf);
        }

        return null;
    }

    /// <summary>What reported usage costs. Anthropic reports cache reads beside its input tokens, OpenAI within them.</summary>
    public decimal? CostOf(ModelPrice price, TokenUsage usage)
    {
        if (usage.Input is null && usage.Output is null && usage.Total is null)
        {
            return null;
        }

        long cached = Math.Max(0, usage.CachedInput ?? 0);
        long input = Math.Max(0, usage.Input ?? (usage.Output is null ? usage.Total ?? 0 : 0));
        if (_provider == ProviderKind.Anthropic)
        {
            input += cached;
        }

        return price.CostOf(input, Math.Max(0, usage.Output ?? 0), Math.Min(cached, input));
    }

    /// <summary>The partition's daily cap, made on first use; <see langword="null"/> without <c>MaxSpendPerDay</c>.</summary>
    public SpendCap? PartitionCap(string partition)
    {
        if (_maxSpendPerDay is not { } limit)
        {
            return null;
        }

        if (_caps.TryGetValue(partition, out var cap))
        {
            return cap;
        }

        lock (_capsLock)
        {
            if (_caps.TryGetValue(partition, out cap))
            {
                return cap;
            }

            if (!_retired.Remove(partition, out cap))
            {
                cap = new SpendCap(limit, SpendWindow.Day, _time) { Name = $"MaxSpendPerDay of partition {partition}" };
            }

            _caps[partition] = cap;
            return cap;
        }
    }

    /// <summary>The gate removed a partition: its cap goes too, or aside while it has money settled today.</summary>
    public void Forget(string partition)
    {
        lock (_capsLock)
        {
            if (!_caps.TryRemove(partition, out var cap) || cap.GetSnapshot().Settled == 0)
            {
                return;
            }

            if (_retired.Count >= _maxRetired)
            {
                // Full: a day that has rolled over frees its cap first.
                foreach (var (key, retired) in _retired)
                {
                    if (retired.GetSnapshot().Settled == 0)
                    {
                        _retired.Remove(key);
                    }
                }
            }

            if (_retired.Count < _maxRetired)
            {
                _retired[partition] = cap;
            }
        }
    }

    /// <summary>Counts money a try of <paramref name="partition"/> spent.</summary>
    public void Spent(string partition, decimal amount) =>
        _metrics.Spent.Add((double)amount, new KeyValuePair<string, object?>(SluiceMetrics.PartitionTag, partition));

    /// <summary>Says in the log that a try was not sent, and why.</summary>
    public void Refused(string requestId, string refusal) => Log.SpendCapRefused(_logger, requestId, refusal);

    public void Dispose() => _metrics.Dispose();

    private IEnumerable<KeyValuePair<string, decimal>> Reserved() =>
        _caps.Select(cap => KeyValuePair.Create(cap.Key, cap.Value.GetSnapshot().Reserved));
}
