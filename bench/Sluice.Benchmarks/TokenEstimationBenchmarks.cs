using System.Text;
using BenchmarkDotNet.Attributes;
using Sluice.Providers;

namespace Sluice.Benchmarks;

/// <summary>
/// The token estimate made for every request before it reaches the gate: the body is read once, the prompt text
/// counted with the model's tokenizer (o200k for gpt-4o), and the output cap added.
/// </summary>
[MemoryDiagnoser]
public class TokenEstimationBenchmarks
{
    private byte[] _short = null!;
    private byte[] _long = null!;
    private byte[] _claude = null!;

    [GlobalSetup]
    public void Setup()
    {
        _short = Body("gpt-4o-mini", "Summarise blog post 17 in one sentence.");
        _long = Body("gpt-4o", string.Join(' ', Enumerable.Repeat("The quick brown fox jumps over the lazy dog, and the blog post goes on.", 60)));
        _claude = Body("claude-sonnet-4-5", string.Join(' ', Enumerable.Repeat("The quick brown fox jumps over the lazy dog, and the blog post goes on.", 60)));

        // Load the tokenizers before measuring: that is a one-off cost per process.
        TokenEstimator.Shared.Estimate("/v1/chat/completions", _long);
    }

    /// <summary>A one-line chat prompt, tokenized with o200k.</summary>
    [Benchmark(Baseline = true)]
    public long Estimate_ShortChat() => TokenEstimator.Shared.Estimate("/v1/chat/completions", _short).Total;

    /// <summary>A 4,300-character chat prompt, tokenized with o200k.</summary>
    [Benchmark]
    public long Estimate_LongChat() => TokenEstimator.Shared.Estimate("/v1/chat/completions", _long).Total;

    /// <summary>The same prompt for a Claude model: characters ÷ 4, no tokenizer.</summary>
    [Benchmark]
    public long Estimate_LongMessages() => TokenEstimator.Shared.Estimate("/v1/messages", _claude).Total;

    private static byte[] Body(string model, string prompt) => Encoding.UTF8.GetBytes(
        $$"""{"model":"{{model}}","max_tokens":256,"messages":[{"role":"system","content":"You are a careful editor."},{"role":"user","content":"{{prompt}}"}]}""");
}
