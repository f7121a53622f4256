using System.Text;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

public sealed class TokenizerWarmUpTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-warmup-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string text)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public void FirstModel_IsTheModelOfTheFirstNonBlankLine()
    {
        string path = Write("\n  \n" +
            """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"}}""" + "\n" +
            """{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4"}}""" + "\n");

        Assert.Equal("gpt-4o-mini", TokenizerWarmUp.FirstModel(path));
    }

    [Theory]
    [InlineData("{not json\n")]
    [InlineData("[1,2]\n")]
    [InlineData("""{"custom_id":"a","body":{"model":7}}""")]
    [InlineData("""{"custom_id":"a","body":"text"}""")]
    [InlineData("")]
    public void FirstModel_OfALineWithoutOne_IsNull_AndStartingTheWarmUpDoesNotThrow(string text)
    {
        string path = Write(text);

        Assert.Null(TokenizerWarmUp.FirstModel(path));
        TokenizerWarmUp.Start(path);
    }

    [Fact]
    public void Start_OnAFileThatCannotBeRead_LeavesTheProblemToValidation()
    {
        string missing = Path.Combine(_directory, "missing.jsonl");

        Assert.Null(TokenizerWarmUp.FirstModel(missing));
        TokenizerWarmUp.Start(missing);
    }
}
