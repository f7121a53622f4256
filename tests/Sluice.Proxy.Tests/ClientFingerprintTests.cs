using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy.Tests;

public sealed class ClientFingerprintTests
{
    [Fact]
    public void BearerAndApiKeyHeader_SameKey_SameFingerprint_NeverTheKey()
    {
        const string key = "sk-client-a-secret-0123456789";
        var bearer = new HeaderDictionary { ["Authorization"] = $"Bearer {key}" };
        var apiKey = new HeaderDictionary { ["x-api-key"] = key };

        string fingerprint = ClientFingerprint.Of(bearer);

        Assert.Equal(fingerprint, ClientFingerprint.Of(apiKey));
        Assert.Matches("^[0-9a-f]{16}$", fingerprint);
        Assert.DoesNotContain("secret", fingerprint, StringComparison.Ordinal);
    }

    [Fact]
    public void DifferentKeys_DifferentFingerprints() =>
        Assert.NotEqual(ClientFingerprint.Of("sk-a"), ClientFingerprint.Of("sk-b"));

    [Fact]
    public void NoKey_None() => Assert.Equal("none", ClientFingerprint.Of(new HeaderDictionary()));
}
