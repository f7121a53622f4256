using Sluice.Mock.Content;

namespace Sluice.Mock.Batch;

/// <summary>Ids in the providers' Batch API formats, from the seed and a counter so a repeated run repeats them.</summary>
internal sealed class BatchIds(int seed)
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string Hex = "0123456789abcdef";
    private long _counter;

    public string File() => Next("file-", 22, Base62);

    public string OpenAIBatch() => Next("batch_", 32, Hex);

    public string BatchRequest() => Next("batch_req_", 32, Hex);

    public string AnthropicBatch() => Next("msgbatch_01", 22, Base62);

    public string Request() => Next("req_", 32, Hex);

    public void Reset() => Interlocked.Exchange(ref _counter, 0);

    private string Next(string prefix, int length, string alphabet)
    {
        // A different stream from the live endpoints' ids: the high bits differ from IdGenerator's.
        var state = ((ulong)(uint)seed << 32) ^ 0xBA7C_0000_0000_0000UL ^ (ulong)Interlocked.Increment(ref _counter);
        return string.Create(prefix.Length + length, (prefix, alphabet, state), static (span, args) =>
        {
            args.prefix.AsSpan().CopyTo(span);
            var state = args.state;
            for (var i = args.prefix.Length; i < span.Length; i++)
            {
                span[i] = args.alphabet[(int)(DeterministicHash.Next(ref state) % (ulong)args.alphabet.Length)];
            }
        });
    }
}
