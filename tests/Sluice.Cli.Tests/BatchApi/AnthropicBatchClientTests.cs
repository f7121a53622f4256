using System.Text.Json;
using Sluice.Cli.BatchApi;
using Sluice.Spend;

namespace Sluice.Cli.Tests.BatchApi;

public sealed class AnthropicBatchClientTests
{
    private static readonly Dictionary<string, string> Ids = new() { ["line-3"] = "post 3 (any id)" };

    private static BatchResultLine? Parse(string text) => AnthropicBatchClient.ParseResult(text, Ids, "claude-sonnet-4-5", PriceTable.Default);

    [Fact]
    public void Succeeded_IsA200WithTheMessage_UnderTheOriginalId_AtBatchPrices()
    {
        var line = Parse("""{"custom_id":"line-3","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":1000,"output_tokens":100}}}}""")!;

        Assert.Equal(("post 3 (any id)", BatchLineOutcome.Succeeded), (line.CustomId, line.Outcome));
        Assert.True(line.Cost > 0 && line.Cost < line.LiveCost);
        using var document = JsonDocument.Parse(line.OutputLine);
        Assert.Equal("post 3 (any id)", document.RootElement.GetProperty("custom_id").GetString());
        Assert.Equal(200, document.RootElement.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("msg_1", document.RootElement.GetProperty("response").GetProperty("body").GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("""{"custom_id":"line-3","result":{"type":"expired"}}""")]
    [InlineData("""{"custom_id":"line-3","result":{"type":"canceled"}}""")]
    [InlineData("""{"custom_id":"line-3","result":{"type":"errored","error":{"type":"error","error":{"type":"api_error","message":"boom"}}}}""")]
    [InlineData("""{"custom_id":"line-3","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"busy"}}}}""")]
    public void ExpiredCanceledOrTransient_IsUnfinished(string text) => Assert.Equal(BatchLineOutcome.Unfinished, Parse(text)!.Outcome);

    [Fact]
    public void InvalidRequest_FailsForGood_WithAnthropicsErrorBody()
    {
        var line = Parse("""{"custom_id":"line-3","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}}}""")!;

        Assert.Equal(BatchLineOutcome.Failed, line.Outcome);
        using var document = JsonDocument.Parse(line.OutputLine);
        Assert.Equal("invalid_request_error", document.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(400, document.RootElement.GetProperty("response").GetProperty("status_code").GetInt32());
    }

    [Fact]
    public void ALineOfAnotherPart_IsIgnored() => Assert.Null(Parse("""{"custom_id":"line-9","result":{"type":"expired"}}"""));

    [Fact]
    public void Parse_TheMessageBatch_EndedIsCompleted_CountsSummed_CreatedAtRead()
    {
        using var document = JsonDocument.Parse("""{"id":"msgbatch_1","type":"message_batch","processing_status":"ended","request_counts":{"processing":0,"succeeded":7,"errored":1,"canceled":0,"expired":2},"created_at":"2026-12-05T07:00:00.000000Z","results_url":"https://api.anthropic.com/v1/messages/batches/msgbatch_1/results"}""");

        var status = AnthropicBatchClient.Parse(document.RootElement);

        Assert.Equal(("msgbatch_1", "completed", true), (status.Id, status.Status, status.Ended));
        Assert.Equal((10, 7, 1), (status.Total, status.Completed, status.Failed));
        Assert.Equal(new DateTimeOffset(2026, 12, 5, 7, 0, 0, TimeSpan.Zero), status.CreatedAt);
    }
}
