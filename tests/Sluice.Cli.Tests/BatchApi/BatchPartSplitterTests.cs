using Sluice.Cli.BatchApi;

namespace Sluice.Cli.Tests.BatchApi;

public sealed class BatchPartSplitterTests
{
    private static BatchInputLine Line(int number, string model = "gpt-4o-mini", int bytes = 100, long tokens = 25, string url = "/v1/chat/completions") =>
        new($"id-{number}", number, url, model, new byte[bytes], tokens);

    private static List<BatchPart> Split(BatchLimits limits, IEnumerable<BatchInputLine> lines, int first = 1)
    {
        var splitter = new BatchPartSplitter(limits, first, attempt: 1);
        var parts = new List<BatchPart>();
        foreach (var line in lines)
        {
            if (splitter.Add(line) is { } closed)
            {
                parts.Add(closed);
            }
        }

        parts.AddRange(splitter.Finish());
        return parts;
    }

    [Fact]
    public void Split_UnderRequestLimit_EachPartHoldsAtMostTheLimit_AndEveryLineOnce()
    {
        var parts = Split(new BatchLimits(3, long.MaxValue, null), Enumerable.Range(1, 10).Select(i => Line(i)));

        Assert.Equal([3, 3, 3, 1], parts.Select(p => p.Lines.Count));
        Assert.Equal(Enumerable.Range(1, 10), parts.SelectMany(p => p.Lines).Select(l => l.LineNumber));
        Assert.Equal([1, 2, 3, 4], parts.Select(p => p.Number));
    }

    [Fact]
    public void Split_UnderByteLimit_CountsEachLineWithItsNewline()
    {
        // 100 bytes + newline each: 303 bytes hold three lines, 302 only two.
        Assert.Equal([3, 1], Split(new BatchLimits(100, 303, null), Enumerable.Range(1, 4).Select(i => Line(i))).Select(p => p.Lines.Count));
        Assert.Equal([2, 2], Split(new BatchLimits(100, 302, null), Enumerable.Range(1, 4).Select(i => Line(i))).Select(p => p.Lines.Count));
    }

    [Fact]
    public void Split_UnderEnqueuedTokens_KeepsEachPartsTokensWithinTheBudget()
    {
        var parts = Split(new BatchLimits(100, long.MaxValue, 60), Enumerable.Range(1, 5).Select(i => Line(i, tokens: 25)));

        Assert.Equal([2, 2, 1], parts.Select(p => p.Lines.Count));
        Assert.All(parts, p => Assert.True(p.Tokens <= 60));
        Assert.Equal(50, parts[0].Tokens);
    }

    [Fact]
    public void Split_OneModelAndEndpointPerPart()
    {
        var lines = new[]
        {
            Line(1, "a"), Line(2, "b"), Line(3, "a"), Line(4, "a", url: "/v1/responses"), Line(5, "b"),
        };

        var parts = Split(new BatchLimits(100, long.MaxValue, null), lines, first: 7);

        Assert.Equal(3, parts.Count);
        Assert.Equal([1, 3], parts[0].Lines.Select(l => l.LineNumber));
        Assert.Equal(("a", "/v1/chat/completions"), (parts[0].Model, parts[0].Url));
        Assert.Equal([2, 5], parts[1].Lines.Select(l => l.LineNumber));
        Assert.Equal(("a", "/v1/responses"), (parts[2].Model, parts[2].Url));
        Assert.Equal([7, 8, 9], parts.Select(p => p.Number));
    }

    [Fact]
    public void Split_ALineOverALimitAlone_GoesInAPartOfItsOwn()
    {
        var parts = Split(new BatchLimits(100, 150, null), [Line(1), Line(2, bytes: 500), Line(3)]);

        Assert.Equal([[1], [2], [3]], parts.Select(p => p.Lines.Select(l => l.LineNumber).ToArray()));
    }

    [Fact]
    public void InputLine_IsTheBatchApiRequestShape_WithModelAndTokenEstimate()
    {
        var line = BatchInputLine.Of(new Cli.Run.RequestLine(4, "x\"y", "/v1/chat/completions", "{\"model\":\"gpt-4o\",\"max_tokens\":20,\"messages\":[]}"u8.ToArray()));

        Assert.Equal("{\"custom_id\":\"x\\u0022y\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\",\"max_tokens\":20,\"messages\":[]}}", System.Text.Encoding.UTF8.GetString(line.Json));
        // 48 bytes of body, about 12 tokens, plus the output cap of 20.
        Assert.Equal(("gpt-4o", 4, 32L), (line.Model, line.LineNumber, line.Tokens));
    }
}
