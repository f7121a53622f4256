using System.Text;
using System.Text.Json;

namespace Sluice.Efficiency.Scenarios;

/// <summary>The requests of one scenario, made from a seed so every row of a run sends exactly the same batch.</summary>
internal sealed class Workload
{
    /// <summary>The model every request names: one the mock knows, and one Sluice has a tokenizer for.</summary>
    public const string Model = "gpt-4o-mini";

    /// <summary>The path every request goes to.</summary>
    public const string Path = "v1/chat/completions";

    // Ordinary English words, so a real tokenizer (Sluice's estimate) and the mock's characters ÷ 4 see ordinary text.
    private static readonly string[] Words =
    [
        "the", "post", "explains", "how", "rate", "limits", "work", "when", "many", "clients", "share", "one", "account",
        "and", "why", "retries", "without", "backoff", "make", "things", "worse", "during", "an", "outage", "summary",
        "developer", "queue", "budget", "minute", "request", "token", "answer", "model", "batch", "latency", "provider",
    ];

    private Workload(IReadOnlyList<byte[]> bodies, long tokenCost)
    {
        Bodies = bodies;
        TokenCost = tokenCost;
    }

    /// <summary>Each request's JSON body, in the order the batch sends them.</summary>
    public IReadOnlyList<byte[]> Bodies { get; }

    /// <summary>
    /// The tokens the whole batch costs the mock once: for each request, ceil(prompt characters ÷ 4) (at least 1)
    /// plus its <c>max_tokens</c> — the estimate the mock itself charges (docs/mock.md, "Cost").
    /// </summary>
    public long TokenCost { get; }

    /// <summary>How many requests the batch has.</summary>
    public int Count => Bodies.Count;

    /// <summary>Makes the batch of <paramref name="scenario"/> from <paramref name="seed"/>.</summary>
    public static Workload Create(Scenario scenario, int seed)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var random = new Random(seed);
        var bodies = new byte[scenario.Requests][];
        long tokens = 0;
        for (int i = 0; i < scenario.Requests; i++)
        {
            int length = random.Next(scenario.PromptCharacters.Min, scenario.PromptCharacters.Max + 1);
            string prompt = Prompt(i + 1, length, random);
            tokens += MockPromptTokens(prompt) + scenario.MaxOutputTokens;
            bodies[i] = JsonSerializer.SerializeToUtf8Bytes(new
            {
                model = Model,
                max_tokens = scenario.MaxOutputTokens,
                messages = new[] { new { role = "user", content = prompt } },
            });
        }

        return new Workload(bodies, tokens);
    }

    /// <summary>
    /// Writes the batch as an OpenAI Batch API file (what <c>sluice run</c> and the Bottleneck script read): one line a
    /// request, <c>custom_id</c> <c>post-N</c> as <see cref="Runners.Replies.Request"/> names it, the same bodies.
    /// </summary>
    public async Task WriteBatchFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = File.Create(path);
        for (int i = 0; i < Bodies.Count; i++)
        {
            await file.WriteAsync(Encoding.UTF8.GetBytes($"{{\"custom_id\":\"{Runners.Replies.CustomId(i)}\",\"method\":\"POST\",\"url\":\"/{Path}\",\"body\":"), cancellationToken).ConfigureAwait(false);
            await file.WriteAsync(Bodies[i], cancellationToken).ConfigureAwait(false);
            await file.WriteAsync("}\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The mock's prompt estimate: one token per four characters, rounded up, at least one.</summary>
    public static long MockPromptTokens(string prompt) => Math.Max(1, (prompt.Length + 3L) / 4);

    private static string Prompt(int number, int length, Random random)
    {
        var text = new StringBuilder($"Summarise blog post {number} in one sentence:", length + 16);
        while (text.Length < length)
        {
            text.Append(' ').Append(Words[random.Next(Words.Length)]);
        }

        text.Length = Math.Max(1, length);
        return text.ToString();
    }
}
