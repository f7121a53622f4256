using System.Net;
using System.Net.Http.Json;
using Sluice.Mock;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Proxy;

/// <summary>
/// Issue 14, finding 1, against the built proxy on loopback: clients sending many random models and many keys cannot
/// grow <c>/metrics</c> or <c>/sluice/status</c> past a bound set by the proxy's limits, and a 100 KB model name is
/// refused rather than kept for the life of the process.
/// </summary>
public sealed class ProxyBoundsTests(ITestOutputHelper output)
{
    private const int MaxPartitions = 20;

    [Fact]
    public async Task ManyRandomModelsAndKeys_KeepMetricsAndStatusBounded()
    {
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { AcceptAnyModel = true },
            mock => ProxyFixture.Single(mock, rpm: 60_000) with { MaxPartitions = MaxPartitions, MaxModels = 5 });
        using (var first = await SendAsync(fixture, "gpt-4o-mini", "sk-first"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // 300 requests: random models with one key, one model with random keys, and both random.
        var random = new Random(14);
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 100; i++)
        {
            foreach (var (model, key) in new[]
            {
                ($"model-{random.Next():x}", "sk-first"),
                ("gpt-4o-mini", $"sk-{random.Next():x}"),
                ($"model-{random.Next():x}", $"sk-{random.Next():x}"),
            })
            {
                using var answer = await SendAsync(fixture, model, key);
                statuses.Add(answer.StatusCode);
            }
        }

        using (var huge = await SendAsync(fixture, new string('m', 100_000), "sk-first"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        }

        string metrics = await fixture.Client.GetStringAsync("metrics").WaitAsync(ProxyFixture.Bound);
        string status = await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound);
        int lines = metrics.Split('\n').Length;
        output.WriteLine($"answers: {string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{(int)g.Key} x{g.Count()}"))}; /metrics {lines} lines, {metrics.Length} bytes; /sluice/status {status.Length} bytes; partitions {fixture.Engine.Gate.Partitions.Count}");

        Assert.Equal(MaxPartitions, fixture.Engine.Gate.Partitions.Count);
        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses);
        Assert.DoesNotContain("mmmmmmmmmm", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("mmmmmmmmmm", status, StringComparison.Ordinal);

        // Per partition: ~50 lines (counters, gauges, and two 16-bucket histograms) of ~200 bytes. Without the bounds
        // the 300 requests made 300 partitions: about 15,000 lines and 3 MB.
        Assert.True(lines < MaxPartitions * 120, $"/metrics has {lines} lines");
        Assert.True(metrics.Length < MaxPartitions * 30_000, $"/metrics is {metrics.Length} bytes");
        Assert.True(status.Length < MaxPartitions * 600, $"/sluice/status is {status.Length} bytes");
    }

    [Fact]
    public async Task PartitionsComingAndGoing_KeepEachInstrumentsSeriesCapped()
    {
        const int Held = 5;
        var clock = new JumpingClock();
        await using var mock = await MockServer.StartAsync(new MockOptions()).WaitAsync(ProxyFixture.Bound);
        await using var proxy = await Sluice.Cli.Proxy.ProxyServer.StartAsync(
            ProxyFixture.Single(mock.BaseUrl, rpm: 60_000) with { MaxPartitions = Held },
            logging => { },
            clock).WaitAsync(ProxyFixture.Bound);
        using var client = new HttpClient { BaseAddress = proxy.BaseUrl, Timeout = ProxyFixture.Bound };

        // Ten rounds of five new client keys, each round after the last one's partitions have been idle 11 minutes:
        // 50 partitions over time, never more than five at once.
        for (int round = 0; round < 10; round++)
        {
            for (int i = 0; i < Held; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
                {
                    Content = JsonContent.Create(new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 4 }),
                };
                request.Headers.Authorization = new("Bearer", $"sk-round-{round}-client-{i}");
                using var answer = await client.SendAsync(request).WaitAsync(ProxyFixture.Bound);
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            }

            clock.Jump(TimeSpan.FromMinutes(11));
        }

        string metrics = await client.GetStringAsync("metrics").WaitAsync(ProxyFixture.Bound);
        int admittedSeries = metrics.Split('\n').Count(line => line.StartsWith("sluice_gate_admitted_total{", StringComparison.Ordinal));
        output.WriteLine($"/metrics {metrics.Split('\n').Length} lines, {metrics.Length} bytes; sluice_gate_admitted_total series {admittedSeries}");

        Assert.Equal(Held, proxy.Proxy.GetEngine("default").Gate.Partitions.Count);
        // The cap is Held + 16 per instrument, plus OpenTelemetry's overflow series: 22. The exporter has shown 22, 23 and
        // 27 on a busy machine (why it overshoots is not yet known); without the cap it is 50, one per partition ever
        // made. The bound here is what is certain: growth stops well short of one series per partition.
        Assert.InRange(admittedSeries, Held, 40);
        Assert.Contains("otel_metric_overflow", metrics, StringComparison.Ordinal);
    }

    /// <summary>The system clock, jumped forward at will: idle times pass at once, while real timers keep real time.</summary>
    private sealed class JumpingClock : TimeProvider
    {
        private long _offsetTicks;

        public void Jump(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

        public override long GetTimestamp() =>
            System.GetTimestamp() + (long)(Interlocked.Read(ref _offsetTicks) * (double)System.TimestampFrequency / TimeSpan.TicksPerSecond);

        public override long TimestampFrequency => System.TimestampFrequency;
    }

    private static Task<HttpResponseMessage> SendAsync(ProxyFixture fixture, string model, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = JsonContent.Create(new { model, messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 4 }),
        };
        request.Headers.Authorization = new("Bearer", key);
        return fixture.Client.SendAsync(request).WaitAsync(ProxyFixture.Bound);
    }
}
