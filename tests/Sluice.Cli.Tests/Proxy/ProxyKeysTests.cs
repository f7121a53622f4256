using Microsoft.AspNetCore.Http;
using Sluice.Cli.Proxy;

namespace Sluice.Cli.Tests.Proxy;

public sealed class ProxyKeysTests
{
    [Fact]
    public void Presented_ReadsBearerThenAnthropicThenAzure()
    {
        Assert.Equal("k1", ProxyKeys.Presented(new HeaderDictionary { ["Authorization"] = "Bearer k1", ["x-api-key"] = "k2" }));
        Assert.Equal("k2", ProxyKeys.Presented(new HeaderDictionary { ["x-api-key"] = "k2" }));
        Assert.Equal("k3", ProxyKeys.Presented(new HeaderDictionary { ["api-key"] = "k3" }));
        Assert.Null(ProxyKeys.Presented(new HeaderDictionary { ["Authorization"] = "Basic abc" }));
    }

    [Fact]
    public void Accepts_OnlyTheProxyKey()
    {
        Assert.True(ProxyKeys.Accepts("secret", new HeaderDictionary { ["Authorization"] = "Bearer secret" }));
        Assert.True(ProxyKeys.Accepts("secret", new HeaderDictionary { ["x-api-key"] = "secret" }));
        Assert.False(ProxyKeys.Accepts("secret", new HeaderDictionary { ["Authorization"] = "Bearer secreT" }));
        Assert.False(ProxyKeys.Accepts("secret", new HeaderDictionary()));
    }
}
