using System.Text.Json;
using Sluice.Cli.BatchApi;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Cli.Tests.BatchApi;

public sealed class BatchResultLineTests
{
    private static readonly PriceTable Prices = PriceTable.Default;

    private static BatchResultLine Parse(string text) => BatchResultLine.Parse(text, ProviderKind.OpenAI, "gpt-4o-mini", Prices)!;

    [Fact]
    public void Success_IsTheLiveOutputLine_WithTheBatchPriceAndUncached()
    {
        var line = Parse("""{"id":"batch_req_1","custom_id":"a","response":{"status_code":200,"request_id":"req_9","body":{"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":1000000,"completion_tokens":1000000}}},"error":null}""");

        Assert.True(PriceTable.Default.TryFind(ProviderKind.OpenAI, "gpt-4o-mini", out var price));
        Assert.Equal(BatchLineOutcome.Succeeded, line.Outcome);
        Assert.Equal(price.CostOf(1_000_000, 1_000_000, batch: true), line.Cost);
        Assert.Equal(price.CostOf(1_000_000, 1_000_000, batch: false), line.LiveCost);
        Assert.True(line.Cost < line.LiveCost);
        using var document = JsonDocument.Parse(line.OutputLine);
        var root = document.RootElement;
        Assert.Equal(["id", "custom_id", "response", "error", "sluice"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("batch_req_1", root.GetProperty("id").GetString());
        Assert.Equal(200, root.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("req_9", root.GetProperty("response").GetProperty("request_id").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
        Assert.Equal(line.Cost, root.GetProperty("sluice").GetProperty("cost").GetDecimal());
        Assert.False(root.GetProperty("sluice").GetProperty("cached").GetBoolean());
    }

    [Theory]
    [InlineData("""{"custom_id":"a","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}""")]
    [InlineData("""{"custom_id":"a","response":{"status_code":500,"request_id":"r","body":{"error":{"message":"oops"}}},"error":null}""")]
    [InlineData("""{"custom_id":"a","response":{"status_code":429,"request_id":"r","body":{}},"error":null}""")]
    [InlineData("""{"custom_id":"a","response":null,"error":{"code":"batch_cancelled","message":"cancelled"}}""")]
    public void ExpiredCancelledOrTransient_IsUnfinished(string text) => Assert.Equal(BatchLineOutcome.Unfinished, Parse(text).Outcome);

    [Fact]
    public void ClientError_FailsForGood_WithTheProvidersCodeAndMessage()
    {
        var line = Parse("""{"id":"batch_req_2","custom_id":"b","response":{"status_code":400,"request_id":"r","body":{"error":{"message":"bad model","type":"invalid_request_error","code":"model_not_found"}}},"error":null}""");

        Assert.Equal(BatchLineOutcome.Failed, line.Outcome);
        using var document = JsonDocument.Parse(line.OutputLine);
        Assert.Equal("model_not_found", document.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("bad model", document.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(400, document.RootElement.GetProperty("response").GetProperty("status_code").GetInt32());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"id":"x"}""")]
    [InlineData("[1]")]
    public void NotAResultLine_IsNull(string text) => Assert.Null(BatchResultLine.Parse(text, ProviderKind.OpenAI, "m", Prices));
}
