using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;
using Sluice.Providers;
using Sluice.Tests.Dispatch.Support;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Engine;

/// <summary>What an answer's headers teach the partition through the engine, and what of the answer the caller keeps.</summary>
public sealed class EngineHeadersTests
{
    [Fact]
    public async Task OpenAIsHeaders_StateTheRequestAndTokenBudgets()
    {
        var transport = new ScriptedTransport((_, _) => WithHeaders(
            ScriptedTransport.Completion(),
            ("x-ratelimit-limit-requests", "600"), ("x-ratelimit-remaining-requests", "599"), ("x-ratelimit-reset-requests", "100ms"),
            ("x-ratelimit-limit-tokens", "90000"), ("x-ratelimit-remaining-tokens", "89000"), ("x-ratelimit-reset-tokens", "1s")));
        using var engine = Make(transport, new FakeTimeProvider());

        var result = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        result.Message!.Dispose();
        var snapshot = engine.Gate.GetPartition(result.Request.Partition).GetSnapshot();

        Assert.Equal(BudgetSource.Headers, snapshot.RequestBudgetSource);
        Assert.Equal(600, snapshot.RequestsPerMinute!.Value, precision: 6);
        Assert.Equal(BudgetSource.Headers, snapshot.TokenBudgetSource);
        Assert.Equal(90_000, snapshot.TokensPerMinute!.Value, precision: 6);
    }

    [Fact]
    public async Task AnthropicsInputAndOutputHeaders_FeedTheirOwnBudgets_NotATotal()
    {
        var reset = new FakeTimeProvider().GetUtcNow().AddSeconds(30).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var transport = new ScriptedTransport((_, _) => WithHeaders(
            ScriptedTransport.Json(HttpStatusCode.OK, """{"type":"message","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":5,"output_tokens":2}}"""),
            ("anthropic-ratelimit-input-tokens-limit", "40000"), ("anthropic-ratelimit-input-tokens-remaining", "39000"), ("anthropic-ratelimit-input-tokens-reset", reset),
            ("anthropic-ratelimit-output-tokens-limit", "8000"), ("anthropic-ratelimit-output-tokens-remaining", "7900"), ("anthropic-ratelimit-output-tokens-reset", reset),
            ("anthropic-ratelimit-tokens-limit", "8000"), ("anthropic-ratelimit-tokens-remaining", "7900"), ("anthropic-ratelimit-tokens-reset", reset)));
        using var engine = Make(transport, new FakeTimeProvider(), o => o.Provider = ProviderKind.Anthropic);
        const string Message = """{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}""";

        var result = await engine.SendAsync(await engine.CaptureAsync(Post(Message, "https://api.anthropic.com/v1/messages"))).DefaultTimeout();
        result.Message!.Dispose();
        var budgets = engine.Gate.GetPartition(result.Request.Partition).GetSnapshot().Budgets;

        Assert.Contains(budgets, b => b.Dimension == BudgetDimension.InputTokens && b.Limit == 40_000 && b.Source == BudgetSource.Headers);
        Assert.Contains(budgets, b => b.Dimension == BudgetDimension.OutputTokens && b.Limit == 8_000 && b.Source == BudgetSource.Headers);
        Assert.DoesNotContain(budgets, b => b.Dimension == BudgetDimension.Tokens);
    }

    [Fact]
    public async Task ABufferedAnswer_KeepsItsContentHeaders_AndStatesItsOwnLength()
    {
        var transport = new ScriptedTransport((_, _) =>
        {
            var response = ScriptedTransport.Completion();
            response.Content.Headers.ContentLanguage.Add("en");
            return response;
        });
        using var engine = Make(transport, new FakeTimeProvider());

        var result = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        using var message = result.Message!;
        byte[] body = await message.Content.ReadAsByteArrayAsync();
        Assert.Equal("application/json", message.Content.Headers.ContentType!.MediaType);
        Assert.Equal(["en"], message.Content.Headers.ContentLanguage);
        Assert.Equal(body.Length, message.Content.Headers.ContentLength);
        Assert.Contains("total_tokens", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    private static HttpResponseMessage WithHeaders(HttpResponseMessage response, params (string Name, string Value)[] headers)
    {
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }
}
