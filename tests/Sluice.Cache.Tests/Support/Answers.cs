using System.Text;
using Sluice.Caching;
using Sluice.Providers;

namespace Sluice.Cache.Tests.Support;

/// <summary>Realistic answers and request bodies for the cache's tests.</summary>
internal static class Answers
{
    public static CachedAnswer Chat(string text, DateTimeOffset storedAt, decimal? cost = 0.00042m) => new()
    {
        StatusCode = 200,
        ContentType = "application/json; charset=utf-8",
        Body = Encoding.UTF8.GetBytes(ChatJson(text)),
        Usage = new TokenUsage(120, 100, 20),
        Cost = cost,
        StoredAt = storedAt,
    };

    public static string ChatJson(string text) =>
        $$$"""{"id":"chatcmpl-1","object":"chat.completion","created":1733300000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"{{{text}}}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120}}""";

    public static CacheKey Key(int n) => CacheKey.For(ProviderKind.OpenAI, "/v1/chat/completions", Encoding.UTF8.GetBytes($$"""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"question {{n}}"}]}"""));
}
