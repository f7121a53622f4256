using CsCheck;
using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class TokenEstimatorTests
{
    private static readonly TokenEstimator Estimator = TokenEstimator.Shared;

    private static long EmbeddingTokens(string model, string text) =>
        Estimator.Estimate("/v1/embeddings", Utf8($$"""{"model":"{{model}}","input":{{System.Text.Json.JsonSerializer.Serialize(text)}}}""")).Prompt;

    // Counts from the providers' own examples: "Hello, world!" is 4 tokens in both encodings; OpenAI's cookbook counts
    // "tiktoken is great!" as 6 in cl100k_base; Microsoft.ML.Tokenizers' readme counts its example as 16 for gpt-4o.
    [Theory]
    [InlineData("gpt-4o", "Hello, world!", 4)]
    [InlineData("gpt-4o-mini", "hello world", 2)]
    [InlineData("gpt-4o", "Text tokenization is the process of splitting a string into a list of tokens.", 16)]
    [InlineData("gpt-4.1", "The quick brown fox jumps over the lazy dog.", 10)]
    [InlineData("text-embedding-3-small", "Hello, world!", 4)]
    [InlineData("text-embedding-3-small", "tiktoken is great!", 6)]
    [InlineData("text-embedding-ada-002", "The quick brown fox jumps over the lazy dog.", 10)]
    public void TheModelsTokenizer_GivesKnownTokenCounts(string model, string text, long expected)
    {
        Assert.Equal(expected, TokenEncodings.Tokenizer(TokenEncodings.ForModel(model))!.CountTokens(text));

        // The estimate never falls below one token per four characters: providers' rate limiters charge by characters.
        Assert.Equal(Math.Max(expected, (text.Length + 3) / 4), EmbeddingTokens(model, text));
    }

    [Fact]
    public void Estimate_WithoutWaiting_CountsExactlyOnceTheTokenizerIsLoaded()
    {
        // Digits apart are one token each: far more than one per four characters, so the floor alone would show.
        var body = Utf8("""{"model":"gpt-4o","input":"1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9"}""");
        Assert.NotNull(TokenEncodings.Tokenizer(TokenEncoding.O200kBase));

        var exact = Estimator.Estimate("/v1/embeddings", body);
        var unwaited = Estimator.Estimate("/v1/embeddings", body, waitForTokenizer: false);

        Assert.Equal(exact, unwaited);
        Assert.True(exact.Prompt > 10, $"the tokenizer counted {exact.Prompt}");
        Assert.Same(TokenEncodings.Tokenizer(TokenEncoding.O200kBase), TokenEncodings.LoadedTokenizer(TokenEncoding.O200kBase));
        Assert.Null(TokenEncodings.LoadedTokenizer(TokenEncoding.Approximate));
    }

    [Fact]
    public void Estimate_WhenTheTokenizerCountsFewerThanOnePerFourCharacters_ReservesOnePerFour()
    {
        // Long English words tokenize at about one token per six characters; the provider charges one per four.
        string text = string.Join(' ', Enumerable.Repeat("internationalization", 50));

        Assert.True(TokenEncodings.Tokenizer(TokenEncodings.ForModel("gpt-4o"))!.CountTokens(text) < (text.Length + 3) / 4);
        Assert.Equal((text.Length + 3) / 4, EmbeddingTokens("gpt-4o", text));
    }

    // o200k_base packs non-Latin scripts far tighter than cl100k_base, which tells the two encodings apart.
    [Theory]
    [InlineData("gpt-4o", 2)]
    [InlineData("gpt-5-mini", 2)]
    [InlineData("o3-mini", 2)]
    [InlineData("o1", 2)]
    [InlineData("o4-mini", 2)]
    [InlineData("gpt-4", 4)]
    [InlineData("gpt-4-turbo", 4)]
    [InlineData("gpt-3.5-turbo", 4)]
    [InlineData("text-embedding-3-large", 4)]
    public void Estimate_ChoosesTheEncodingByModelFamily(string model, long expected)
    {
        Assert.Equal(expected, EmbeddingTokens(model, "こんにちは世界"));
    }

    [Fact]
    public void Estimate_ChatCompletion_AddsPerMessageOverheadAndReplyPriming()
    {
        var body = Utf8("""{"model":"gpt-4o","messages":[{"role":"system","content":"Hello, world!"},{"role":"user","content":"Hello, world!"}]}""");

        var estimate = Estimator.Estimate("/v1/chat/completions", body);

        Assert.Equal(2 * (4 + PromptText.MessageOverhead) + PromptText.ReplyPriming, estimate.Prompt);
        Assert.Equal(TokenEstimator.DefaultOutputCap, estimate.OutputCap);
        Assert.Equal(estimate.Prompt + estimate.OutputCap, estimate.Total);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","messages":[],"max_tokens":100}""", 100)]
    [InlineData("""{"model":"gpt-4o","messages":[],"max_completion_tokens":256,"n":3}""", 768)]
    [InlineData("""{"model":"gpt-4o","messages":[],"max_tokens":100,"n":1}""", 100)]
    [InlineData("""{"model":"gpt-4o","messages":[],"n":2}""", 2 * TokenEstimator.DefaultOutputCap)]
    [InlineData("""{"model":"gpt-4o","messages":[],"max_tokens":50,"n":0}""", 50)]
    [InlineData("""{"model":"gpt-4o","messages":[],"max_tokens":50,"n":"2"}""", 50)]
    [InlineData("""{"model":"gpt-4o","messages":[],"max_tokens":10,"n":100000}""", 10 * TokenEstimator.MaxChoices)]
    [InlineData("""{"model":"gpt-4o","messages":[],"max_tokens":-5}""", TokenEstimator.DefaultOutputCap)]
    [InlineData("""{"model":"gpt-4o","messages":[],"max_tokens":99999999999999}""", TokenEstimator.MaxOutputTokens)]
    public void Estimate_OutputCap_IsTheLimitTimesN(string body, long expected)
    {
        Assert.Equal(expected, Estimator.Estimate("/v1/chat/completions", Utf8(body)).OutputCap);
    }

    [Fact]
    public void Estimate_Responses_ReadsInstructionsInputAndMaxOutputTokens()
    {
        var body = Utf8("""{"model":"gpt-4.1","instructions":"Hello, world!","input":"Hello, world!","max_output_tokens":500}""");

        var estimate = Estimator.Estimate("/v1/responses", body);

        Assert.Equal(4 + 4 + PromptText.ReplyPriming, estimate.Prompt);
        Assert.Equal(500, estimate.OutputCap);
    }

    [Fact]
    public void Estimate_Responses_InputItemsEachAddOverhead()
    {
        var body = Utf8("""{"model":"gpt-4.1","input":[{"role":"user","content":[{"type":"input_text","text":"Hello, world!"}]}]}""");

        Assert.Equal(4 + PromptText.MessageOverhead + PromptText.ReplyPriming, Estimator.Estimate("/v1/responses", body).Prompt);
    }

    [Fact]
    public void Estimate_Embeddings_HasNoOutputAndCountsEveryInput()
    {
        var body = Utf8("""{"model":"text-embedding-3-small","input":["Hello, world!","tiktoken is great!"],"encoding_format":"float"}""");

        Assert.Equal(new TokenEstimate(10, 0), Estimator.Estimate("/v1/embeddings", body));
    }

    [Fact]
    public void Estimate_Embeddings_TokenIdInputsCountOneEach()
    {
        var body = Utf8("""{"model":"text-embedding-3-small","input":[[9906,11,1917,0],[15339]]}""");

        Assert.Equal(new TokenEstimate(5, 0), Estimator.Estimate("/v1/embeddings", body));
    }

    [Fact]
    public void Estimate_ClaudeMessages_FallsBackToFourCharactersAToken()
    {
        // "Be brief." (9) + "Hello, Claude" (13) = 22 characters → 6 tokens, plus one message's overhead and the priming.
        var body = Utf8("""{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"Be brief.","messages":[{"role":"user","content":"Hello, Claude"}]}""");

        var estimate = Estimator.Estimate("/v1/messages", body);

        Assert.Equal(6 + PromptText.MessageOverhead + PromptText.ReplyPriming, estimate.Prompt);
        Assert.Equal(1024, estimate.OutputCap);
    }

    [Fact]
    public void Estimate_UnknownModel_FallsBackToFourCharactersAToken()
    {
        var body = Utf8("""{"model":"llama-3.1-70b-instruct","messages":[{"role":"user","content":"12345678901234567"}],"max_tokens":64}""");

        Assert.Equal(new TokenEstimate(5 + PromptText.MessageOverhead + PromptText.ReplyPriming, 64), Estimator.Estimate("/v1/chat/completions", body));
    }

    [Fact]
    public void Estimate_AzureWithoutModel_UsesTheDeploymentName()
    {
        var body = Utf8("""{"input":"こんにちは世界"}""");

        var estimate = Estimator.Estimate("/openai/deployments/gpt-4o-mini/embeddings?api-version=2024-10-21", body);

        Assert.Equal(new TokenEstimate(2, 0), estimate);
    }

    [Fact]
    public void Estimate_ImagePartsCostAFlatAmountInsteadOfTheirBase64()
    {
        var image = "data:image/png;base64," + new string('A', 40_000);
        var body = Utf8($$$"""{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Hello, world!"},{"type":"image_url","image_url":{"url":"{{{image}}}","detail":"high"}}]}]}""");

        var estimate = Estimator.Estimate("/v1/chat/completions", body);

        Assert.Equal(4 + PromptText.MediaPartTokens + PromptText.MessageOverhead + PromptText.ReplyPriming, estimate.Prompt);
    }

    [Fact]
    public void Estimate_ToolsAndToolCallsCount()
    {
        const string Messages = """[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}]""";
        const string Tools = """[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""";
        var bare = Estimator.Estimate("/v1/chat/completions", Utf8($$"""{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}]}"""));
        var withCall = Estimator.Estimate("/v1/chat/completions", Utf8($$"""{"model":"gpt-4o","messages":{{Messages}}}"""));
        var withTools = Estimator.Estimate("/v1/chat/completions", Utf8($$"""{"model":"gpt-4o","messages":{{Messages}},"tools":{{Tools}}}"""));

        Assert.True(withCall.Prompt > bare.Prompt + PromptText.MessageOverhead);
        Assert.True(withTools.Prompt > withCall.Prompt + 20);
    }

    [Fact]
    public void Estimate_BodyThatIsNotJson_IsFourBytesATokenWithTheDefaultCap()
    {
        Assert.Equal(new TokenEstimate(3, TokenEstimator.DefaultOutputCap), Estimator.Estimate("/v1/chat/completions", Utf8("not json!")));
        Assert.Equal(new TokenEstimate(0, TokenEstimator.DefaultOutputCap), Estimator.Estimate("/v1/chat/completions", []));
        Assert.Equal(new TokenEstimate(3, 0), Estimator.Estimate("/v1/embeddings", Utf8("not json!")));
    }

    [Fact]
    public void Constructor_SetsTheCapForRequestsThatSetNone()
    {
        var estimator = new TokenEstimator(outputCapWhenUnset: 4_096);

        Assert.Equal(4_096, estimator.Estimate("/v1/chat/completions", Utf8("""{"model":"gpt-4o","messages":[]}""")).OutputCap);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenEstimator(-1));
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","messages":[]}""", "gpt-4o")]
    [InlineData("""{"messages":[],"model":"claude-sonnet-4-5","stream":true}""", "claude-sonnet-4-5")]
    [InlineData("""{"messages":[{"model":"nested"}]}""", null)]
    [InlineData("""{"model":42}""", null)]
    [InlineData("{\"model\":\"gpt-4o\",\"messages\":[", "gpt-4o")]   // read before the break; the model is all it needs
    [InlineData("{\"model\":\"gpt-4o", null)]
    [InlineData("""["model","gpt-4o"]""", null)]
    [InlineData("not json", null)]
    [InlineData("", null)]
    public void ReadModel_ReadsTheTopLevelModel(string body, string? expected)
    {
        Assert.Equal(expected, TokenEstimator.ReadModel(Utf8(body)));
    }

    [Fact]
    public void Estimate_AnyBytesOnAnyPath_NeverThrowsNorGoesNegative()
    {
        var paths = OneOf("/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/messages", "/v1/completions", "/other", "");
        Gen.Select(paths, AnyBytes).Sample((path, body) =>
        {
            var estimate = Estimator.Estimate(path, body);

            Assert.True(estimate.Prompt >= 0 && estimate.OutputCap >= 0);
            _ = TokenEstimator.ReadModel(body);
        }, iter: 20_000);
    }

    private static Gen<string> OneOf(params string[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    [Fact]
    public void Estimate_ChatWithAnyText_NeverThrows()
    {
        var models = OneOf("gpt-4o", "gpt-4", "claude-sonnet-4-5", "mystery");
        Gen.Select(models, Gen.OneOf(Gen.String, Gen.Const("\\uD800"))).Sample((model, text) =>
        {
            var content = System.Text.Json.JsonSerializer.Serialize(text).Replace("\\\\uD800", "\\uD800");
            var body = Utf8($$"""{"model":"{{model}}","messages":[{"role":"user","content":{{content}},{{content}}:"x"}]}""");

            Assert.True(Estimator.Estimate("/v1/chat/completions", body).Prompt >= PromptText.MessageOverhead);
        }, iter: 5_000);
    }
}
