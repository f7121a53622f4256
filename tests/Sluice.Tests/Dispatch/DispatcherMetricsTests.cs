using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

public sealed class DispatcherMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private IMeterFactory MeterFactory => _services.GetRequiredService<IMeterFactory>();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task RunAsync_WhenThrottled_CountsEachThrottledTry()
    {
        using var throttled = Collect("sluice.attempt.throttled");
        using var retried = Collect("sluice.attempt.retried");
        using var h = new DispatchHarness(meterFactory: MeterFactory);
        var throttle = Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.FromSeconds(1)));
        h.Upstream.Script("A", throttle, throttle, Step.Returns(AttemptOutcome.Success("ok")));

        await h.Driver.RunUntilAsync(h.Run("A"), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));

        Assert.Equal(2, Sum(throttled, ("sluice.partition", "a")));
        Assert.Equal(0, Sum(retried));
    }

    [Fact]
    public async Task RunAsync_WhenTransientFailuresAreRetried_CountsEachScheduledRetry()
    {
        using var retried = Collect("sluice.attempt.retried");
        using var h = new DispatchHarness(configure: o => o.MaxAttempts = 3, meterFactory: MeterFactory);
        var failure = Step.Returns(AttemptOutcome.Transient<string>("503"));
        h.Upstream.Script("Recovers", failure, failure, Step.Returns(AttemptOutcome.Success("ok")));
        h.Upstream.Script("GivesUp", failure);
        h.Upstream.Script("Once", failure, Step.Returns(AttemptOutcome.Success("ok")));

        await h.Driver.RunUntilAsync(Task.WhenAll(h.Run("Recovers"), h.Run("GivesUp"), h.Run("Once", "b")), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));

        // Two retries each for the first two (the third failure of "GivesUp" is final), one for "Once".
        Assert.Equal(4, Sum(retried, ("sluice.partition", "a")));
        Assert.Equal(1, Sum(retried, ("sluice.partition", "b")));
    }

    [Fact]
    public async Task RunAsync_ForEveryJob_CountsOneCompletionByStatus()
    {
        using var completed = Collect("sluice.job.completed");
        using var failed = Collect("sluice.job.failed");
        using var h = new DispatchHarness(configure: o => o.MaxAttempts = 2, meterFactory: MeterFactory);
        h.Upstream.Script("Bad", Step.Returns(AttemptOutcome.Permanent<string>("400")));
        h.Upstream.Script("Flaky", Step.Returns(AttemptOutcome.Transient<string>("503")));
        h.Upstream.Script("Broke", Step.Returns(AttemptOutcome.QuotaExhausted<string>("insufficient_quota")));
        var jobs = new[] { h.Run("Ok1"), h.Run("Ok2"), h.Run("Ok3"), h.Run("Bad"), h.Run("Flaky"), h.Run("Broke", "b") };

        await h.Driver.RunUntilAsync(Task.WhenAll(jobs), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));

        Assert.Equal(6, Sum(completed));
        Assert.Equal(3, Sum(completed, ("sluice.job.status", "Succeeded")));
        Assert.Equal(2, Sum(completed, ("sluice.job.status", "Failed")));
        Assert.Equal(1, Sum(completed, ("sluice.job.status", "NotCompleted")));
        Assert.Equal(1, Sum(failed, ("sluice.job.reason", "Permanent")));
        Assert.Equal(1, Sum(failed, ("sluice.job.reason", "AttemptsExhausted")));
    }

    [Fact]
    public async Task RunAsync_WithMixedOutcomes_CountsMatchWhatHappened()
    {
        using var throttled = Collect("sluice.attempt.throttled");
        using var retried = Collect("sluice.attempt.retried");
        using var completed = Collect("sluice.job.completed");
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 3 }, o => o.MaxAttempts = 3, MeterFactory);
        var random = new Random(5);
        var ids = Enumerable.Range(0, 60).Select(i => $"J{i}").ToList();
        foreach (var id in ids)
        {
            var steps = Enumerable.Range(0, 4).Select(_ => random.Next(10) switch
            {
                < 5 => Step.After(TimeSpan.FromMilliseconds(random.Next(1, 300)), AttemptOutcome.Success(id)),
                < 7 => Step.Returns(AttemptOutcome.Transient<string>("503")),
                < 9 => Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.FromMilliseconds(random.Next(0, 500)))),
                _ => Step.Returns(AttemptOutcome.Permanent<string>("400")),
            }).ToArray();
            h.Upstream.Script(id, steps);
        }

        var results = await h.Driver.RunUntilAsync(Task.WhenAll(ids.Select(id => h.Run(id, $"p{id.Length}"))), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));

        // What happened, as the results tell it: every try but the last counted attempt of a job was followed by a
        // retry when it was a transient failure; every throttled try was counted.
        long expectedThrottles = results.Sum(r => r.Throttles);
        long expectedRetries = results.Sum(r => r.Attempts - 1);
        Assert.Equal(expectedThrottles, Sum(throttled));
        Assert.Equal(expectedRetries, Sum(retried));
        Assert.True(expectedThrottles > 0 && expectedRetries > 0, "the script exercised neither throttles nor retries");
        Assert.Equal(results.Length, Sum(completed));
        foreach (var status in Enum.GetValues<JobStatus>())
        {
            Assert.Equal(results.Count(r => r.Status == status), Sum(completed, ("sluice.job.status", status.ToString())));
        }
    }

    private MetricCollector<long> Collect(string instrument) => new(MeterFactory, "Sluice", instrument);

    private static long Sum(MetricCollector<long> collector, params (string Key, string Value)[] tags) =>
        collector.GetMeasurementSnapshot()
            .Where(m => tags.All(t => m.Tags.TryGetValue(t.Key, out var value) && Equals(value, t.Value)))
            .Sum(m => m.Value);
}
