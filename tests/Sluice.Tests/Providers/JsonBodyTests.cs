using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class JsonBodyTests
{
    [Theory]
    [InlineData("""{"a":1}""", true)]
    [InlineData(" {\"a\":[1,2,{}]} \r\n", true)]
    [InlineData("\uFEFF{\"a\":1}", true)]
    [InlineData("{}", true)]
    [InlineData("""{"a":1}{"b":2}""", false)]
    [InlineData("""{"a":1""", false)]
    [InlineData("[1]", true)]
    [InlineData("\"text\"\n", true)]
    [InlineData("null", true)]
    [InlineData("[1] [2]", false)]
    [InlineData("", false)]
    [InlineData("<html>", false)]
    [InlineData("""{"a":1,}""", false)]
    public void IsWellFormedValue_AcceptsExactlyOneValue(string body, bool expected)
    {
        Assert.Equal(expected, JsonBody.IsWellFormedValue(Utf8(body)));
    }

    [Fact]
    public void IsWellFormedValue_NestedTooDeep_IsFalseNotAnException()
    {
        var deep = new string('[', 100) + new string(']', 100);

        Assert.False(JsonBody.IsWellFormedValue(Utf8("{\"a\":" + deep + "}")));
        Assert.False(JsonBody.TryParse(Utf8("{\"a\":" + deep + "}"), out _));
    }
}
