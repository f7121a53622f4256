using Sluice.Mock.Requests;

namespace Sluice.Mock.Tests.Requests;

public class ModelCatalogTests
{
    private readonly ModelCatalog _catalog = new(ModelCatalog.DefaultModels, acceptAny: false);

    [Theory]
    [InlineData("gpt-4o-mini")]
    [InlineData("gpt-4o-2024-08-06")]
    [InlineData("claude-sonnet-4-5")]
    [InlineData("claude-sonnet-4-5-20250929")]
    [InlineData("claude-3-haiku-20240307")]
    [InlineData("text-embedding-3-small")]
    public void IsKnown_KnowsDefaultModelsAndTheirDatedSnapshots(string model) => Assert.True(_catalog.IsKnown(model));

    [Theory]
    [InlineData("gpt-9")]
    [InlineData("gpt-4o-mini-preview")]
    [InlineData("gpt-4o-20")]
    [InlineData("")]
    public void IsKnown_RefusesOtherNames(string model) => Assert.False(_catalog.IsKnown(model));

    [Fact]
    public void IsKnown_AcceptAny_AcceptsEverything() => Assert.True(new ModelCatalog([], acceptAny: true).IsKnown("my-local-model"));
}
