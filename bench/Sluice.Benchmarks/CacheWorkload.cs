using System.Text;
using Sluice.Caching;
using Sluice.Providers;

namespace Sluice.Benchmarks;

/// <summary>
/// Realistic cache traffic: chat requests of 1–2 KB (a system prompt and a blog post to summarise) and chat completion
/// answers of 800–1,500 bytes whose text is drawn from an English vocabulary, so that it compresses like prose, not
/// like a repeated character.
/// </summary>
internal static class CacheWorkload
{
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "with", "was", "on", "be", "by", "this", "are", "or",
        "from", "at", "an", "but", "not", "have", "they", "which", "one", "you", "were", "all", "their", "has", "more",
        "post", "author", "argues", "queue", "requests", "limit", "rate", "model", "tokens", "budget", "retry", "backoff",
        "latency", "throughput", "provider", "answer", "summary", "reader", "batch", "cost", "cache", "stream", "error",
        "workers", "concurrency", "minute", "second", "python", "script", "library", "engine", "gate", "partition",
        "however", "because", "therefore", "although", "instead", "finally", "notably", "clearly", "roughly", "mostly",
        "describes", "explains", "suggests", "shows", "measures", "compares", "reports", "builds", "sends", "waits",
        "quickly", "slowly", "carefully", "simple", "complex", "useful", "expensive", "cheap", "fast", "slow", "large",
        "small", "first", "last", "next", "each", "every", "many", "few", "most", "some", "other", "same", "different",
        "data", "file", "line", "result", "output", "input", "journal", "crash", "resume", "server", "client", "proxy",
        "developer", "team", "project", "issue", "change", "version", "release", "test", "benchmark", "number", "time",
    ];

    private const string SystemPrompt =
        "You are a careful technical editor. Summarise the blog post the user gives you in three sentences, then list " +
        "its main claims as short bullet points, and say which claims the post supports with measurements. Answer in " +
        "plain English, without markdown headings, and never invent numbers that the post does not state.";

    public static string Prose(Random random, int length)
    {
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            string word = Words[random.Next(Words.Length)];
            text.Append(text.Length == 0 || text[^1] == '.' ? char.ToUpperInvariant(word[0]) + word[1..] : word);
            text.Append(random.Next(12) == 0 ? ". " : " ");
        }

        return text.ToString(0, length).TrimEnd();
    }

    /// <summary>A chat request body of about 1–2 KB.</summary>
    public static byte[] Request(int n)
    {
        var random = new Random(n);
        string post = Prose(random, random.Next(700, 1500));
        return Encoding.UTF8.GetBytes(
            $$$"""{"model":"gpt-4o-mini","temperature":0,"max_tokens":400,"messages":[{"role":"system","content":"{{{SystemPrompt}}}"},{"role":"user","content":"Post {{{n}}}: {{{post}}}"}]}""");
    }

    /// <summary>A chat completion answer of about 800–1,500 bytes.</summary>
    public static CachedAnswer Answer(int n, DateTimeOffset storedAt)
    {
        var random = new Random(~n);
        string text = Prose(random, random.Next(250, 900));
        int completion = text.Length / 4;
        byte[] body = Encoding.UTF8.GetBytes(
            $$$"""{"id":"chatcmpl-{{{n:x8}}}","object":"chat.completion","created":{{{1764547200 + n}}},"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"{{{text}}}","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":{{{300 + (n % 200)}}},"completion_tokens":{{{completion}}},"total_tokens":{{{300 + (n % 200) + completion}}},"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_34a54ae93c"}""");
        return new CachedAnswer
        {
            StatusCode = 200,
            ContentType = "application/json",
            Body = body,
            Usage = new TokenUsage(300 + (n % 200) + completion, 300 + (n % 200), completion),
            Cost = 0.00015m,
            StoredAt = storedAt,
        };
    }

    public static CacheKey Key(int n) => CacheKey.For(ProviderKind.OpenAI, "/v1/chat/completions", Request(n));
}
