using BenchmarkDotNet.Attributes;
using Sluice.Gate;

namespace Sluice.Benchmarks;

/// <summary>
/// What a million callers waiting at one partition cost: each is a waiter (its task) in the partition's priority
/// queue. The benchmark queues 1,000,000 behind a held slot, then releases them one by one; "Allocated" is the memory
/// the queue needed (all of it is live at the peak, before the first release).
/// </summary>
[MemoryDiagnoser]
public class QueueMemoryBenchmarks
{
    private const int Waiters = 1_000_000;

    private SluiceGate _gate = null!;
    private GatePartition _partition = null!;
    private Task<GateLease>[] _pending = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1, MaxQueueLength = Waiters + 1 } });
        _partition = _gate.GetPartition("queued");
        _pending = new Task<GateLease>[Waiters];
    }

    [GlobalCleanup]
    public void Cleanup() => _gate.Dispose();

    /// <summary>1,000,000 callers queued behind one slot, then admitted in turn.</summary>
    [Benchmark]
    public void Queue_1MillionWaiters_ThenDrain()
    {
        // A waiter's ValueTask wraps its own Task, so AsTask() allocates nothing more.
        var holder = _partition.TryAcquire(new AdmissionRequest());
        for (int i = 0; i < Waiters; i++)
        {
            _pending[i] = _partition.AcquireAsync(new AdmissionRequest()).AsTask();
        }

        holder.Dispose();
        for (int i = 0; i < Waiters; i++)
        {
            _pending[i].Result.Dispose();
        }
    }
}
