namespace Sluice.Mock.Content;

/// <summary>
/// Ids in the providers' formats (<c>chatcmpl-…</c>, <c>msg_01…</c>, <c>resp_…</c>, <c>req_…</c>), made from the
/// seed and a counter so that a repeated run gives the same ids.
/// </summary>
internal sealed class IdGenerator(int seed)
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string Hex = "0123456789abcdef";
    private long _counter;

    public string ChatCompletion() => Next("chatcmpl-", 29, Base62);

    public string AnthropicMessage() => Next("msg_01", 22, Base62);

    public string Response() => Next("resp_", 48, Hex);

    public string ResponseItem() => Next("msg_", 48, Hex);

    public string OpenAIRequest() => Next("req_", 32, Hex);

    public string AnthropicRequest() => Next("req_011C", 20, Base62);

    public void Reset() => Interlocked.Exchange(ref _counter, 0);

    private string Next(string prefix, int length, string alphabet)
    {
        var state = ((ulong)(uint)seed << 32) ^ (ulong)Interlocked.Increment(ref _counter);
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
