using BenchmarkDotNet.Attributes;
using Sluice.Gate;

namespace Sluice.Benchmarks;

/// <summary>
/// What tenants and fair share cost the gate: an admission cycle (acquire, settle, release) under budgets that never
/// bind, with no tenant named, and spread over 1, 2 or 8 tenants; and admission from a queue the tenants share.
/// </summary>
[MemoryDiagnoser]
public class FairnessBenchmarks
{
    private SluiceGate _gate = null!;
    private GatePartition _budgeted = null!;
    private GatePartition _queued = null!;
    private GateTenant[] _tenants = null!;
    private int _next;

    /// <summary>Tenants the admissions are spread over; 0: none named (the partition's default tenant).</summary>
    [Params(0, 1, 2, 8)]
    public int Tenants { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _gate = SluiceGate.Create(new GateOptions());
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
        _tenants = [.. Enumerable.Range(0, Tenants).Select(i => new GateTenant($"tenant-{i}") { Weight = 1 + (i % 3) })];
    }

    [GlobalCleanup]
    public void Cleanup() => _gate.Dispose();

    /// <summary>Admit, settle and release under request and token budgets that never bind.</summary>
    [Benchmark]
    public void AcquireSettleRelease()
    {
        var pending = _budgeted.AcquireAsync(new AdmissionRequest(Tokens: 500) { Tenant = NextTenant() });
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the budgeted path waited");
        }

        using var lease = pending.Result;
        lease.Settle(420);
    }

    /// <summary>1,000 callers of the tenants wait behind one slot; each release admits the next in fair order. Per admission.</summary>
    [Benchmark(OperationsPerInvoke = 1_000)]
    public async Task Admit_1000Waiters_OneByOne()
    {
        var holder = await _queued.AcquireAsync(new AdmissionRequest());
        var waiters = new Task[1_000];
        for (int i = 0; i < waiters.Length; i++)
        {
            // Released as admitted: fair order is not arrival order, and the next waits for this one's slot.
            waiters[i] = _queued.AcquireAsync(new AdmissionRequest { Tenant = NextTenant() }).AsTask()
                .ContinueWith(static admitted => admitted.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        holder.Dispose();
        await Task.WhenAll(waiters);
    }

    private GateTenant? NextTenant()
    {
        if (_tenants.Length == 0)
        {
            return null;
        }

        int next = _next + 1 == _tenants.Length ? 0 : _next + 1;
        _next = next;
        return _tenants[next];
    }
}
