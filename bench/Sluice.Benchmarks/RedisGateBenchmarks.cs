using System.Globalization;
using BenchmarkDotNet.Attributes;
using Sluice.Gate;
using Sluice.Redis.Gate;
using Sluice.Tests.Support;

namespace Sluice.Benchmarks;

/// <summary>
/// Admission and release through the Redis gate on loopback (a real redis-server on a free port): the round trip that
/// every shared admission costs. BenchmarkDotNet gives the mean per operation; <see cref="Latency_PerAdmission"/> times
/// each admission on its own and prints p50 and p99 when the run ends (BenchmarkDotNet's percentiles are over
/// iterations, not single operations). Targets (issue 15): p50 at most 0.3 ms, p99 at most 2 ms.
/// </summary>
/// <remarks>dotnet run -c Release --project bench/Sluice.Benchmarks -- --filter '*RedisGate*'</remarks>
[MemoryDiagnoser]
public class RedisGateBenchmarks
{
    // The last 200,000 admissions timed, in timestamp ticks: bounded whatever the run's length.
    private readonly long[] _latencies = new long[200_000];
    private long _timed;
    private RedisServer _server = null!;
    private SluiceGate _gate = null!;
    private GatePartition _unlimited = null!;
    private GatePartition _budgeted = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = RedisServer.StartAsync().GetAwaiter().GetResult();
        _gate = RedisGate.Create(
            new RedisGateOptions { Configuration = _server.Configuration, KeyPrefix = "bench" },
            new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1_000_000 } });
        _unlimited = _gate.GetPartition("unlimited");
        _budgeted = _gate.GetPartition("budgeted");
        _budgeted.UpdateLimits(new PartitionLimits
        {
            MaxConcurrency = 1_000_000,
            RequestsPerWindow = int.MaxValue,
            TokensPerWindow = long.MaxValue / 4,
            RequestBurst = int.MaxValue,
            TokenBurst = long.MaxValue / 8,
            RequestsPerDay = int.MaxValue,
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        long timed = Math.Min(_timed, _latencies.Length);
        if (timed > 0)
        {
            var sorted = _latencies.AsSpan(0, (int)timed).ToArray();
            Array.Sort(sorted);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"// Redis gate admission+release latency over {timed} admissions: p50 {Milliseconds(sorted, 0.50):F3} ms, p90 {Milliseconds(sorted, 0.90):F3} ms, p99 {Milliseconds(sorted, 0.99):F3} ms, max {Milliseconds(sorted, 1):F3} ms"));
        }

        _gate.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Admit through Redis and release (the release is sent, not awaited; the next admission queues behind it).</summary>
    [Benchmark(Baseline = true)]
    public void AcquireRelease_Unlimited() => Admit(_unlimited, new AdmissionRequest()).Dispose();

    /// <summary>Admit under request, token and per-day budgets that never bind, settle, release.</summary>
    [Benchmark]
    public void AcquireSettleRelease_WithBudgets()
    {
        using var lease = Admit(_budgeted, new AdmissionRequest(Tokens: 500));
        lease.Settle(420);
    }

    /// <summary>100 admissions, each timed alone (printed as p50 and p99 at the end of the run).</summary>
    [Benchmark(OperationsPerInvoke = 100)]
    public void Latency_PerAdmission()
    {
        var time = TimeProvider.System;
        for (int i = 0; i < 100; i++)
        {
            long started = time.GetTimestamp();
            Admit(_unlimited, new AdmissionRequest()).Dispose();
            long elapsed = time.GetTimestamp() - started;
            _latencies[_timed++ % _latencies.Length] = elapsed;
        }
    }

    private static GateLease Admit(GatePartition partition, AdmissionRequest request)
    {
        var pending = partition.AcquireAsync(request);
        var lease = pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        if (!lease.IsAdmitted)
        {
            throw new InvalidOperationException($"not admitted: {lease.RejectionMessage}");
        }

        return lease;
    }

    private static double Milliseconds(long[] sorted, double quantile) =>
        sorted[Math.Min(sorted.Length - 1, (int)(quantile * sorted.Length))] * 1000.0 / TimeProvider.System.TimestampFrequency;
}
