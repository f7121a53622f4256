using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Http;
using Sluice.Tests.Dispatch.Support;
using Sluice.Tests.Engine;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Spend;

/// <summary>
/// The engine's caps per partition are bounded with the gate's partitions, yet a partition that idles out does not
/// start its day afresh; spend is measured.
/// </summary>
public sealed class EngineSpendBoundsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task APartitionRemovedWhenIdle_KeepsItsDaysSpend_WhenItComesBackTheSameDay()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.Zero));
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var probe = Make(transport, time);
        var sample = await probe.CaptureAsync(Post());
        decimal worst = probe.EstimateCost(sample)!.Value;
        decimal answered = probe.CostOf(sample, new Sluice.Providers.TokenUsage(10, 7, 3))!.Value;

        // Room for one answer and one more worst case: the third request of the day is refused.
        using var engine = Make(transport, time, o =>
        {
            o.MaxSpendPerDay = answered + worst;
            o.PartitionIdleTimeout = TimeSpan.FromMinutes(1);
        });
        var ends = new List<SluiceResponse>();
        for (int i = 0; i < 3; i++)
        {
            var request = await engine.CaptureAsync(Post());
            ends.Add(await engine.SendAsync(request).DefaultTimeout());
            await EvictAsync(engine, time, request.Partition);
            Assert.Equal((0, 1), (engine.SpendBook.CapsHeld, engine.SpendBook.CapsRetired));
        }

        Assert.Equal([JobEndReason.None, JobEndReason.None, JobEndReason.SpendCapReached], ends.Select(end => end.Reason));
        Assert.Equal(2, transport.Calls);

        // The next day starts afresh.
        time.Advance(TimeSpan.FromDays(1));
        var tomorrow = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        Assert.True(tomorrow.IsSuccess, tomorrow.Error);
        foreach (var end in ends.Append(tomorrow))
        {
            end.Message?.Dispose();
        }
    }

    [Fact]
    public async Task APartitionRemovedWithNothingSpentToday_TakesItsCapWithIt()
    {
        var time = new FakeTimeProvider();
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.BadRequest, """{"error":{"message":"bad"}}"""));
        using var engine = Make(transport, time, o =>
        {
            o.MaxSpendPerDay = 1m;
            o.PartitionIdleTimeout = TimeSpan.FromMinutes(1);
        });
        var request = await engine.CaptureAsync(Post());

        (await engine.SendAsync(request).DefaultTimeout()).Message?.Dispose();
        Assert.Equal(1, engine.SpendBook.CapsHeld);
        await EvictAsync(engine, time, request.Partition);

        Assert.Equal((0, 0), (engine.SpendBook.CapsHeld, engine.SpendBook.CapsRetired));
    }

    [Fact]
    public async Task Spend_IsCountedInDollarsByPartition_AndWhatIsReservedIsAGauge()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var spent = new MetricCollector<double>(meters, "Sluice", "sluice.spend");
        using var reserved = new MetricCollector<double>(meters, "Sluice", "sluice.spend.reserved");
        var time = new FakeTimeProvider();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var transport = new ScriptedTransport((_, call) =>
        {
            if (call == 2)
            {
                // While the second try is in flight, its worst case is what the partition's cap holds.
                reserved.RecordObservableInstruments();
                release.SetResult();
            }

            return ScriptedTransport.Completion();
        });
        var options = new SluiceHandlerOptions { MaxSpendPerDay = 1m, AdaptiveConcurrency = false };
        using var engine = new SluiceEngine(options, transport, time, meterFactory: meters);
        var first = await engine.CaptureAsync(Post());
        decimal answered = engine.CostOf(first, new Sluice.Providers.TokenUsage(10, 7, 3))!.Value;

        (await engine.SendAsync(first).DefaultTimeout()).Message!.Dispose();
        var second = await engine.CaptureAsync(Post());
        (await engine.SendAsync(second).DefaultTimeout()).Message!.Dispose();
        await release.Task.DefaultTimeout();

        Assert.Equal([(double)answered, (double)answered], spent.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(spent.GetMeasurementSnapshot(), m => Assert.Equal(first.Partition, m.Tags["sluice.partition"]));
        var held = Assert.Single(reserved.GetMeasurementSnapshot());
        Assert.Equal((double)engine.EstimateCost(second)!.Value, held.Value);
        reserved.RecordObservableInstruments();
        Assert.Equal(0, reserved.LastMeasurement!.Value);
    }

    /// <summary>Lets the partition idle past its timeout, and makes the gate sweep with a look-up of another key.</summary>
    private static async Task EvictAsync(SluiceEngine engine, FakeTimeProvider time, string partition)
    {
        time.Advance(TimeSpan.FromMinutes(2));
        engine.Gate.GetPartition("sweeper|key:none|x");
        await TestWait.Eventually(() => engine.Gate.Partitions.All(p => p.Key != partition), "the idle partition removed");
    }
}
