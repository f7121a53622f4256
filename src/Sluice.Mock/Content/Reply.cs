using System.Text;

namespace Sluice.Mock.Content;

/// <summary>A generated reply: its text, its token count and whether the output cap cut it.</summary>
internal sealed record Reply(string Text, int Tokens, bool CutByLimit)
{
    private static readonly string[] Filler =
    [
        "sluice", "gate", "river", "budget", "token", "stream", "minute", "steady",
        "water", "flow", "paced", "queue", "lock", "channel", "level", "basin",
    ];

    /// <summary>
    /// Makes the reply to <paramref name="prompt"/>: <c>Mock reply to: </c> and the prompt, padded with words
    /// chosen by a hash of the prompt, exactly four characters per token, and
    /// min(<paramref name="replyTokens"/>, <paramref name="maxTokens"/>) tokens long. The same prompt always
    /// gets the same reply, so tests can check it.
    /// </summary>
    public static Reply To(string prompt, int replyTokens, long maxTokens)
    {
        var tokens = (int)Math.Min(replyTokens, maxTokens);
        var length = tokens * 4;
        var text = new StringBuilder(length + 16).Append("Mock reply to: ");
        foreach (var word in prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (text.Length >= length)
            {
                break;
            }

            text.Append(word).Append(' ');
        }

        var state = DeterministicHash.Of(prompt);
        while (text.Length < length)
        {
            text.Append(Filler[(int)(DeterministicHash.Next(ref state) % (ulong)Filler.Length)]).Append(' ');
        }

        var end = length;
        if (char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }

        return new Reply(text.ToString(0, end), tokens, replyTokens > maxTokens);
    }

    /// <summary>The reply cut into its tokens, four characters each (a surrogate pair is never split).</summary>
    public IEnumerable<string> Pieces()
    {
        var start = 0;
        while (start < Text.Length)
        {
            var end = Math.Min(start + 4, Text.Length);
            if (end < Text.Length && char.IsHighSurrogate(Text[end - 1]))
            {
                end++;
            }

            yield return Text[start..end];
            start = end;
        }
    }
}
