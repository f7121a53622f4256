using BenchmarkDotNet.Attributes;
using Sluice.Dispatch;
using Sluice.Gate;

namespace Sluice.Benchmarks;

/// <summary>The cost of running a job through the dispatcher, around work that costs nothing.</summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private static readonly Func<AttemptContext, CancellationToken, ValueTask<AttemptOutcome<int>>> NoOp =
        static (_, _) => ValueTask.FromResult(AttemptOutcome.Success(1));

    private SluiceGate _gate = null!;
    private SluiceDispatcher _dispatcher = null!;
    private SluiceJob _job = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1_000 } });
        _dispatcher = SluiceDispatcher.Create(_gate, random: new Random(1));
        _job = new SluiceJob("job", "p") { EstimatedTokens = 100 };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _dispatcher.Dispose();
        _gate.Dispose();
    }

    [Benchmark]
    public async Task<JobResult<int>> RunAsync_NoOpJob() => await _dispatcher.RunAsync(_job, NoOp);
}
