using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Tests.Dispatch.Support;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Engine;

/// <summary>
/// What an engine keeps per partition, and which answers stop one (issue 14, findings 1, 4 and 9): stop answers go
/// with their partition, belong to their own stop only, and come only from causes that are the partition's.
/// </summary>
public sealed class EngineStopAndBoundsTests
{
    private const string Rejected = """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}""";
    private const string Forbidden = """{"error":{"message":"You are not allowed to use this resource","type":"invalid_request_error","code":"forbidden"}}""";

    [Fact]
    public async Task Send_AfterARejectedKeyThenAPark_LaterCallersGetThePark_NotTheOldRejection()
    {
        var transport = new ScriptedTransport((_, call) => call == 1
            ? ScriptedTransport.Json(HttpStatusCode.Unauthorized, Rejected)
            : Throttled(TimeSpan.FromHours(10)));
        using var engine = Make(transport, new FakeTimeProvider());

        var rejected = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        engine.Gate.GetPartition(rejected.Request.Partition).Resume();
        var parked = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        var later = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        Assert.Equal(JobEndReason.AuthFailed, rejected.Reason);
        Assert.Equal(JobEndReason.Parked, parked.Reason);
        Assert.Equal(JobEndReason.PartitionStopped, later.Reason);
        Assert.Null(later.Message);
        Assert.Contains("parked", later.Error, StringComparison.Ordinal);
        Assert.Equal(2, transport.Calls);
        rejected.Message!.Dispose();
        parked.Message?.Dispose();
    }

    [Fact]
    public async Task Send_ARejectionAgain_AfterAResume_IsReplayed_AsTheNewStopsAnswer()
    {
        var transport = new ScriptedTransport((_, call) => ScriptedTransport.Json(HttpStatusCode.Unauthorized, Rejected.Replace("provided", $"provided ({call})", StringComparison.Ordinal)));
        using var engine = Make(transport, new FakeTimeProvider());

        var first = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        engine.Gate.GetPartition(first.Request.Partition).Resume();
        var second = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        var later = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        Assert.Equal(JobEndReason.PartitionStopped, later.Reason);
        Assert.Contains("(2)", await later.Message!.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        first.Message!.Dispose();
        second.Message!.Dispose();
        later.Message.Dispose();
    }

    [Fact]
    public async Task Send_ARejectionTheFaceSaysIsTheRequestsOwn_EndsThatRequestAlone_AndStopsNobody()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.Unauthorized, Rejected));
        using var engine = Make(transport, new FakeTimeProvider());
        var requestsOwn = new SluiceSendOptions { StopsPartition = _ => false };

        var first = await engine.SendAsync(await engine.CaptureAsync(Post(key: "sk-one-clients-bad-key")), requestsOwn).DefaultTimeout();
        var second = await engine.SendAsync(await engine.CaptureAsync(Post(key: "sk-one-clients-bad-key")), requestsOwn).DefaultTimeout();

        Assert.Equal(JobEndReason.Permanent, first.Reason);
        Assert.Equal(HttpStatusCode.Unauthorized, first.Message!.StatusCode);
        Assert.Equal(Rejected, await first.Message.Content.ReadAsStringAsync());
        Assert.Equal(JobEndReason.Permanent, second.Reason);
        Assert.Equal(2, transport.Calls);
        Assert.Null(engine.Gate.GetPartition(first.Request.Partition).GetSnapshot().StopReason);
        Assert.Equal(0, engine.StopAnswersHeld);
        first.Message.Dispose();
        second.Message!.Dispose();
    }

    [Fact]
    public async Task Send_TheFacesRule_ChoosesByAnswer_A403IsTheRequests_A401ThePartitions()
    {
        var transport = new ScriptedTransport((_, call) => call == 1
            ? ScriptedTransport.Json(HttpStatusCode.Forbidden, Forbidden)
            : ScriptedTransport.Json(HttpStatusCode.Unauthorized, Rejected));
        using var engine = Make(transport, new FakeTimeProvider());
        var rule = new SluiceSendOptions { StopsPartition = answer => answer.StatusCode != HttpStatusCode.Forbidden };

        var forbidden = await engine.SendAsync(await engine.CaptureAsync(Post()), rule).DefaultTimeout();
        var rejected = await engine.SendAsync(await engine.CaptureAsync(Post()), rule).DefaultTimeout();
        var later = await engine.SendAsync(await engine.CaptureAsync(Post()), rule).DefaultTimeout();

        Assert.Equal(JobEndReason.Permanent, forbidden.Reason);
        Assert.Equal(JobEndReason.AuthFailed, rejected.Reason);
        Assert.Equal(JobEndReason.PartitionStopped, later.Reason);
        Assert.Equal(HttpStatusCode.Unauthorized, later.Message!.StatusCode);
        Assert.Equal(2, transport.Calls);
        forbidden.Message!.Dispose();
        rejected.Message!.Dispose();
        later.Message.Dispose();
    }

    [Fact]
    public async Task EvictedPartition_TakesItsStopAnswerWithIt_AndItsKeyIsTriedAfresh()
    {
        var time = new FakeTimeProvider();
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.Unauthorized, Rejected));
        using var engine = Make(transport, time, options => options.PartitionIdleTimeout = TimeSpan.FromMinutes(10));

        var first = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        Assert.Equal(1, engine.StopAnswersHeld);

        // A look-up of any key sweeps the idle partition out, and its stop answer with it.
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal("someone-else", engine.Gate.GetPartition("someone-else").Key);
        Assert.Equal(["someone-else"], engine.Gate.Partitions.Select(p => p.Key));
        Assert.Equal(0, engine.StopAnswersHeld);

        var again = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        Assert.Equal(JobEndReason.AuthFailed, again.Reason);
        Assert.Equal(2, transport.Calls);
        first.Message!.Dispose();
        again.Message!.Dispose();
    }

    [Fact]
    public async Task Send_PastMaxPartitions_EndsStoppedWithTheReason_AndTheGateHoldsNoMore()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, new FakeTimeProvider(), options => options.MaxPartitions = 2);

        var results = new List<SluiceResponse>();
        foreach (string model in new[] { "model-a", "model-b", "model-c" })
        {
            results.Add(await engine.SendAsync(await engine.CaptureAsync(Post(Chat.Replace("gpt-4o-mini", model, StringComparison.Ordinal)))).DefaultTimeout());
        }

        Assert.Equal([JobEndReason.None, JobEndReason.None, JobEndReason.PartitionStopped], results.Select(r => r.Reason));
        Assert.Contains("limit of 2 partitions", results[2].Error, StringComparison.Ordinal);
        Assert.Equal(2, engine.Gate.Partitions.Count);
        Assert.Equal(2, transport.Calls);
        results.ForEach(r => r.Message?.Dispose());
    }

    [Fact]
    public async Task Capture_AHugeOrStrangeModelName_KeepsThePartitionKeyShort_AndTellsModelsApart()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());
        string huge = new('m', 100_000);

        var a = await engine.CaptureAsync(Post(Chat.Replace("gpt-4o-mini", huge, StringComparison.Ordinal)));
        var b = await engine.CaptureAsync(Post(Chat.Replace("gpt-4o-mini", huge + "x", StringComparison.Ordinal)));
        var piped = await engine.CaptureAsync(Post(Chat.Replace("gpt-4o-mini", "a|key:forged|b", StringComparison.Ordinal)));
        var plain = await engine.CaptureAsync(Post());

        Assert.True(a.Partition.Length < 100, a.Partition);
        Assert.NotEqual(a.Partition, b.Partition);
        Assert.Matches("\\|model#[0-9a-f]{12}$", a.Partition);
        Assert.Matches("\\|model#[0-9a-f]{12}$", piped.Partition);
        Assert.EndsWith("|gpt-4o-mini", plain.Partition, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 10, "MaxPartitions")]
    [InlineData(10, 0, "PartitionIdleTimeout")]
    public void Engine_WithAnInvalidBound_NamesIt(int maxPartitions, int idleMinutes, string named)
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Make(
            new ScriptedTransport((_, _) => ScriptedTransport.Completion()),
            new FakeTimeProvider(),
            options =>
            {
                options.MaxPartitions = maxPartitions;
                options.PartitionIdleTimeout = TimeSpan.FromMinutes(idleMinutes);
            }));

        Assert.Contains(error.Failures, f => f.Contains(named, StringComparison.Ordinal));
    }

    private static HttpResponseMessage Throttled(TimeSpan retryAfter)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
        {
            Content = new StringContent("""{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""", Encoding.UTF8, "application/json"),
        };
        response.Headers.TryAddWithoutValidation("retry-after", ((long)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return response;
    }
}
