using System.Text;
using Sluice.Caching;
using Sluice.Providers;

namespace Sluice.Cache.Tests.Caching;

/// <summary>What changes a request's cache key and what does not.</summary>
public sealed class CacheKeyTests
{
    private const string Endpoint = "/v1/chat/completions";
    private const string Base = """{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise post 17"}],"stream":false}""";

    private static CacheKey Key(string body, ProviderKind provider = ProviderKind.OpenAI, string endpoint = Endpoint) =>
        CacheKey.For(provider, endpoint, Encoding.UTF8.GetBytes(body));

    [Theory]
    [InlineData("""{"temperature":0,"stream":false,"messages":[{"content":"Summarise post 17","role":"user"}],"model":"gpt-4o-mini"}""")]
    [InlineData("""
        {
          "model" : "gpt-4o-mini",
          "temperature" : 0,
          "messages" : [ { "role" : "user", "content" : "Summarise post 17" } ],
          "stream" : false
        }
        """)]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise post 17"}],"stream":false,"user":"alice"}""")]
    [InlineData("""{"metadata":{"run":"7"},"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise post 17"}],"stream":false,"store":true,"safety_identifier":"x","prompt_cache_key":"k","service_tier":"flex"}""")]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise post \u0031\u0037"}],"stream":false}""")]
    public void For_KeyOrderWhitespaceEscapesAndCallerFields_DoNotChangeIt(string same)
    {
        Assert.Equal(Key(Base), Key(same));
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"Summarise post 17"}],"stream":false}""")]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise post 18"}],"stream":false}""")]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0.7,"messages":[{"role":"user","content":"Summarise post 17"}],"stream":false}""")]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0.0,"messages":[{"role":"user","content":"Summarise post 17"}],"stream":false}""")]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise post 17"}],"stream":true}""")]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise post 17"}]}""")]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"Summarise post 17"}],"stream":false}""")]
    [InlineData("""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise post 17","user":"alice"}],"stream":false}""")]
    public void For_ModelMessagesTemperatureStreamAndNestedFields_ChangeIt(string other)
    {
        Assert.NotEqual(Key(Base), Key(other));
    }

    [Fact]
    public void For_ProviderAndEndpoint_ChangeIt()
    {
        Assert.NotEqual(Key(Base), Key(Base, ProviderKind.Anthropic));
        Assert.NotEqual(Key(Base), Key(Base, endpoint: "/v1/responses"));
    }

    [Fact]
    public void For_ABodyThatIsNotJson_IsHashedAsItsBytes()
    {
        Assert.Equal(Key("not json {"), Key("not json {"));
        Assert.NotEqual(Key("not json {"), Key("not json  {"));
        // The same bytes as JSON and as raw text never share a key.
        Assert.NotEqual(Key("{}"), Key("{ }x"));
    }

    [Fact]
    public void For_ArraysKeepTheirOrder()
    {
        Assert.NotEqual(Key("""{"a":[1,2]}"""), Key("""{"a":[2,1]}"""));
    }

    [Fact]
    public void Text_IsTheHashInHex_AndCopyToGivesTheSameBytes()
    {
        var key = Key(Base);
        Span<byte> bytes = stackalloc byte[CacheKey.Length];
        key.CopyTo(bytes);

        Assert.Matches("^[0-9a-f]{64}$", key.Text);
        Assert.Equal(Convert.ToHexStringLower(bytes), key.Text);
        Assert.Equal(key.Text, key.ToString());
    }

    [Fact]
    public void For_IsTheSameFromManyThreads()
    {
        var expected = Key(Base);
        var keys = new CacheKey[64];
        Parallel.For(0, keys.Length, i => keys[i] = Key(Base));
        Assert.All(keys, key => Assert.Equal(expected, key));
    }
}
