using Sluice.Mock.Content;

namespace Sluice.Mock.Tests.Content;

public class ReplyTests
{
    [Fact]
    public void To_QuotesThePrompt_AndIsFourCharactersPerToken()
    {
        var reply = Reply.To("What is a sluice?", replyTokens: 20, maxTokens: 100);

        Assert.StartsWith("Mock reply to: What is a sluice?", reply.Text, StringComparison.Ordinal);
        Assert.Equal(80, reply.Text.Length);
        Assert.Equal(20, reply.Tokens);
        Assert.False(reply.CutByLimit);
    }

    [Fact]
    public void To_IsCutByTheOutputCap()
    {
        var reply = Reply.To("What is a sluice?", replyTokens: 20, maxTokens: 3);

        Assert.Equal("Mock reply t", reply.Text);
        Assert.Equal(3, reply.Tokens);
        Assert.True(reply.CutByLimit);
    }

    [Fact]
    public void To_IsDeterministic_AndDependsOnThePrompt()
    {
        Assert.Equal(Reply.To("a", 50, 100), Reply.To("a", 50, 100));
        Assert.NotEqual(Reply.To("a", 50, 100).Text, Reply.To("b", 50, 100).Text);
    }

    [Fact]
    public void Pieces_AreTheTokens_AndNeverSplitASurrogatePair()
    {
        var reply = Reply.To("🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂", replyTokens: 12, maxTokens: 100);

        var pieces = reply.Pieces().ToList();

        Assert.Equal(reply.Text, string.Concat(pieces));
        Assert.All(pieces, piece => Assert.False(char.IsHighSurrogate(piece[^1])));
        Assert.InRange(pieces.Count, reply.Tokens - 2, reply.Tokens);
    }
}
