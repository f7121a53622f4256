using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy.Tests;

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
    public void TheProxyKey_Alone_IsAccepted_InAnyCredentialHeader()
    {
        var options = new SluiceProxyOptions { ProxyKey = "secret" };
        options.Upstreams.Add(new ProxyUpstream { Name = "up", Url = new Uri("http://127.0.0.1:9/"), ApiKey = "k", IsDefault = true });
        var tenants = new ProxyTenants(options, TimeProvider.System);

        Assert.False(tenants.Identify(new HeaderDictionary { ["Authorization"] = "Bearer secret" }).IsRefused);
        Assert.False(tenants.Identify(new HeaderDictionary { ["x-api-key"] = "secret" }).IsRefused);
        Assert.Equal("proxy_key", tenants.Identify(new HeaderDictionary { ["Authorization"] = "Bearer secreT" }).Reason);
        Assert.Equal("proxy_key", tenants.Identify(new HeaderDictionary()).Reason);
    }
}
