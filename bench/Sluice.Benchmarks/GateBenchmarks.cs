using BenchmarkDotNet.Attributes;
using Sluice.Gate;

namespace Sluice.Benchmarks;

/// <summary>The cost of the gate itself: admission and release, alone and behind a queue.</summary>
[MemoryDiagnoser]
public class GateBenchmarks
{
    private SluiceGate _gate = null!;
    private GatePartition _unlimited = null!;
    private GatePartition _budgeted = null!;
    private GatePartition _queued = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gate = SluiceGate.Create(new GateOptions());
        _unlimited = _gate.GetPartition("unlimited");
        _budgeted = _gate.GetPartition("budgeted");
        _budgeted.UpdateLimits(new PartitionLimits
        {
            MaxConcurrency = 1_000_000,
            RequestsPerWindow = int.MaxValue,
            TokensPerWindow = long.MaxValue / 4,
            RequestBurst = int.MaxValue,
            TokenBurst = long.MaxValue / 8,
        });
        _queued = _gate.GetPartition("queued");
        _queued.UpdateLimits(new PartitionLimits { MaxConcurrency = 1, MaxQueueLength = 100_000 });
    }

    [GlobalCleanup]
    public void Cleanup() => _gate.Dispose();

    /// <summary>Admit and release with no budgets: the uncontended fast path.</summary>
    [Benchmark(Baseline = true)]
    public void AcquireRelease_Unlimited()
    {
        var pending = _unlimited.AcquireAsync(new AdmissionRequest());
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the uncontended path waited");
        }

        pending.Result.Dispose();
    }

    /// <summary>Admit, settle and release under request and token budgets that never bind.</summary>
    [Benchmark]
    public void AcquireSettleRelease_WithBudgets()
    {
        var pending = _budgeted.AcquireAsync(new AdmissionRequest(Tokens: 500));
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the budgeted path waited");
        }

        using var lease = pending.Result;
        lease.Settle(420);
    }

    /// <summary>1,000 callers wait behind one slot; each release admits the next. Per admission.</summary>
    [Benchmark(OperationsPerInvoke = 1_000)]
    public async Task Admit_1000Waiters_OneByOne()
    {
        var holder = await _queued.AcquireAsync(new AdmissionRequest());
        var waiters = new Task<GateLease>[1_000];
        for (int i = 0; i < waiters.Length; i++)
        {
            waiters[i] = _queued.AcquireAsync(new AdmissionRequest()).AsTask();
        }

        holder.Dispose();
        foreach (var waiter in waiters)
        {
            (await waiter).Dispose();
        }
    }
}
