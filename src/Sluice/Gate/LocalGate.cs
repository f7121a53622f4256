using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Options;

namespace Sluice.Gate;

/// <summary>A gate whose partitions live in this process.</summary>
internal sealed class LocalGate : SluiceGate
{
    private readonly ConcurrentDictionary<string, LocalPartition> _partitions = new(StringComparer.Ordinal);
    private readonly PartitionLimits _defaults;
    private readonly Dictionary<string, PartitionLimits> _overrides;
    private readonly Func<string, PartitionLimits?>? _selector;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public LocalGate(GateOptions options, TimeProvider time, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
        : base(Validated(options, time), meterFactory)
    {
        _defaults = options.DefaultLimits.Clone();
        _overrides = options.Partitions.ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal);
        _selector = options.LimitsSelector;
        _time = time;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Sluice.Gate");
    }

    public override IReadOnlyCollection<GatePartition> Partitions => _partitions.Values.ToArray();

    public override GatePartition GetPartition(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (_partitions.TryGetValue(key, out var existing))
        {
            return existing;
        }

        var created = new LocalPartition(key, LimitsFor(key), _time, Metrics, _logger);
        var winner = _partitions.GetOrAdd(key, created);
        if (!ReferenceEquals(winner, created))
        {
            created.Dispose();
        }

        return winner;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var partition in _partitions.Values)
            {
                partition.Dispose();
            }
        }
    }

    /// <summary>Validates the options before the base class makes the gate's instruments, so invalid options leave nothing behind.</summary>
    private static TimeProvider Validated(GateOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options.DefaultLimits, nameof(options.DefaultLimits));
        var validator = new PartitionLimitsValidator();
        OptionsGuard.ThrowIfInvalid(validator, options.DefaultLimits, nameof(GateOptions.DefaultLimits));
        foreach (var (key, limits) in options.Partitions)
        {
            OptionsGuard.ThrowIfInvalid(validator, limits, $"{nameof(GateOptions.Partitions)}[{key}]");
        }

        return time;
    }

    private PartitionLimits LimitsFor(string key)
    {
        if (_overrides.TryGetValue(key, out var configured))
        {
            return configured.Clone();
        }

        if (_selector?.Invoke(key) is { } chosen)
        {
            OptionsGuard.ThrowIfInvalid(new PartitionLimitsValidator(), chosen, $"{nameof(GateOptions.LimitsSelector)}({key})");
            return chosen.Clone();
        }

        return _defaults.Clone();
    }
}
