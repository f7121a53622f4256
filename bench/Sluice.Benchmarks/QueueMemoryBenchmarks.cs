using BenchmarkDotNet.Attributes;
using Sluice.Gate;

namespace Sluice.Benchmarks;

/// <summary>
/// What a million callers waiting at one partition cost: each is a waiter (its task) in the partition's priority
/// queue. The benchmark queues 1,000,000 behind a held slot; "Allocated" is the memory the queue needed, all of it live
/// at once. Releasing them (not measured) happens in the iteration's cleanup.
/// </summary>
[MemoryDiagnoser]
public class QueueMemoryBenchmarks
{
    private const int Waiters = 1_000_000;

    private SluiceGate _gate = null!;
    private GatePartition _partition = null!;
    private Task<GateLease>[] _pending = null!;
    private GateLease _holder = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1, MaxQueueLength = Waiters + 1 } });
        _partition = _gate.GetPartition("queued");
        _pending = new Task<GateLease>[Waiters];
    }

    [GlobalCleanup]
    public void Cleanup() => _gate.Dispose();

    [IterationSetup]
    public void HoldTheSlot() => _holder = _partition.TryAcquire(new AdmissionRequest());

    [IterationCleanup]
    public void Drain()
    {
        _holder.Dispose();
        foreach (var pending in _pending)
        {
            pending.Result.Dispose();
        }
    }

    /// <summary>1,000,000 callers queued behind one slot.</summary>
    [Benchmark]
    public void Queue_1MillionWaiters()
    {
        // A waiter's ValueTask wraps its own Task, so AsTask() allocates nothing more.
        for (int i = 0; i < Waiters; i++)
        {
            _pending[i] = _partition.AcquireAsync(new AdmissionRequest()).AsTask();
        }
    }
}
