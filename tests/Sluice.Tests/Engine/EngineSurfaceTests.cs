using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Providers;
using Sluice.Tests.Dispatch.Support;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Engine;

/// <summary>The engine's public surface: its arguments, its standard transport, its ids, and the limits each partition gets.</summary>
public sealed class EngineSurfaceTests
{
    [Fact]
    public async Task PublicMethods_RefuseMissingArguments_BeforeDoingAnything()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, new FakeTimeProvider());

        Assert.Throws<ArgumentNullException>("message", () => engine.Capture(null!, []));
        await Assert.ThrowsAsync<ArgumentNullException>("message", () => engine.CaptureAsync(null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("request", () => engine.SendAsync(null!));
        Assert.Throws<ArgumentNullException>("partition", () => engine.LimitsFor(null!));
        await Assert.ThrowsAsync<ArgumentNullException>("requests", async () =>
        {
            await foreach (var _ in engine.SendAllAsync(null!, 1))
            {
            }
        });
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("maxInProgress", async () =>
        {
            await foreach (var _ in engine.SendAllAsync(AsyncEnumerable.Empty<SluiceRequest>(), 0))
            {
            }
        });
        Assert.Equal(0, transport.Calls);
    }

    [Fact]
    public void CreateTransport_Decompresses_FollowsNoRedirect_KeepsNoCookie_AndRenewsConnections()
    {
        using var transport = SluiceEngine.CreateTransport();

        Assert.Equal(DecompressionMethods.All, transport.AutomaticDecompression);
        Assert.False(transport.AllowAutoRedirect);
        Assert.False(transport.UseCookies);
        Assert.Equal(TimeSpan.FromMinutes(5), transport.PooledConnectionLifetime);
        Assert.Equal(TimeSpan.FromSeconds(30), transport.ConnectTimeout);
    }

    [Fact]
    public void Capture_TakesTheRequestIdHeader_WhenThereIsNoCustomId_AndNumbersTheRest()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());
        var traced = Post();
        traced.Headers.TryAddWithoutValidation("X-Request-Id", "trace-1");
        var both = Post();
        both.Headers.TryAddWithoutValidation("X-Request-Id", "trace-2");
        both.Headers.TryAddWithoutValidation("X-Sluice-Custom-Id", "line-2");

        Assert.Equal("trace-1", engine.Capture(traced, []).Id);
        Assert.Equal("line-2", engine.Capture(both, []).Id);
        string first = engine.Capture(Post(), []).Id, second = engine.Capture(Post(), []).Id;
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Capture_ARelativeAddress_IsReadAsThePath_AndScopedAsDefault()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());
        const string Streamed = """{"model":"gpt-4o-mini","stream":true,"messages":[]}""";
        var relative = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/chat/completions", UriKind.Relative));

        var request = engine.Capture(relative, Encoding.UTF8.GetBytes(Streamed));

        // The path names the endpoint: a streamed chat completion is asked to report its usage.
        Assert.True(request.UsageAdded);
        Assert.StartsWith("default|key:none|", request.Partition, StringComparison.Ordinal);
    }

    [Fact]
    public void LimitsFor_AddTheEnginesAdaptiveConcurrency_AndTheProvidersFirstHeadersRule_ToEveryGroup()
    {
        using var anthropic = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider(), o =>
        {
            o.Provider = ProviderKind.Anthropic;
            o.AdaptiveConcurrency = true;
            o.Partitions["claude-haiku*"] = new PartitionLimits { MaxConcurrency = 2, AdaptiveConcurrency = false };
            o.Partitions["claude-sonnet*"] = new PartitionLimits { MaxConcurrency = 5, AdaptiveConcurrency = true };
        });
        using var openai = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider(), o =>
            o.Partitions["gpt-4o*"] = new PartitionLimits { MaxConcurrency = 3, AdaptiveConcurrency = true });

        var grouped = anthropic.LimitsFor("api.anthropic.com|key:none|CLAUDE-HAIKU*");
        var plain = anthropic.LimitsFor("api.anthropic.com|key:none|claude-opus-4");
        var openaiGrouped = openai.LimitsFor("api.openai.com|key:none|gpt-4o*");

        Assert.Equal(2, grouped.MaxConcurrency);
        Assert.True(grouped.AdaptiveConcurrency, "the engine's AdaptiveConcurrency applies to every group");
        Assert.True(grouped.AwaitFirstHeaders);
        Assert.True(plain.AdaptiveConcurrency);
        Assert.True(anthropic.LimitsFor("api.anthropic.com|key:none|claude-sonnet*").AdaptiveConcurrency, "on in both is on");
        Assert.True(plain.AwaitFirstHeaders);
        Assert.Equal(3, openaiGrouped.MaxConcurrency);
        Assert.True(openaiGrouped.AdaptiveConcurrency, "a group's own AdaptiveConcurrency is kept");
        Assert.False(openaiGrouped.AwaitFirstHeaders);
        Assert.False(openai.LimitsFor("api.openai.com|key:none|o3").AdaptiveConcurrency);
    }

    [Fact]
    public void Engine_CopiesTheLimits_SoChangingTheOptionsAfterwardsChangesNothing()
    {
        var options = new Sluice.Http.SluiceHandlerOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 7 } };
        using var engine = new SluiceEngine(options, new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());

        options.DefaultLimits.MaxConcurrency = 1;

        Assert.Equal(7, engine.LimitsFor("x|key:none|m").MaxConcurrency);
        Assert.Equal(ProviderKind.OpenAI, engine.Provider);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dispose_DisposesTheTransportItWasGiven_UsedOrNot(bool used)
    {
        var transport = new DisposalTrackingTransport();
        var engine = Make(transport, new FakeTimeProvider());
        if (used)
        {
            (await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout()).Message!.Dispose();
        }

        Assert.False(transport.Disposed);
        engine.Dispose();

        Assert.True(transport.Disposed);
    }

    private sealed class DisposalTrackingTransport : HttpMessageHandler
    {
        public bool Disposed { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(ScriptedTransport.Completion());

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
