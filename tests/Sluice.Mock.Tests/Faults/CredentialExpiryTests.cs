using Sluice.Mock.Faults;

namespace Sluice.Mock.Tests.Faults;

public class CredentialExpiryTests
{
    [Fact]
    public void IsExpired_AfterNRequests_UntilTheCredentialChanges()
    {
        var expiry = new CredentialExpiry(requestsPerCredential: 2);

        Assert.False(expiry.IsExpired("Bearer a"));
        Assert.False(expiry.IsExpired("Bearer a"));
        Assert.True(expiry.IsExpired("Bearer a"));
        Assert.True(expiry.IsExpired("Bearer a"));

        Assert.False(expiry.IsExpired("Bearer b"));
        Assert.False(expiry.IsExpired("Bearer b"));
        Assert.True(expiry.IsExpired("Bearer b"));
    }

    [Fact]
    public void IsExpired_WithoutALimit_IsNever()
    {
        var expiry = new CredentialExpiry(null);

        Assert.All(Enumerable.Range(0, 100), _ => Assert.False(expiry.IsExpired(null)));
    }

    [Fact]
    public void Reset_GivesTheSameCredentialAFreshCount()
    {
        var expiry = new CredentialExpiry(1);
        expiry.IsExpired("k");
        Assert.True(expiry.IsExpired("k"));

        expiry.Reset();

        Assert.False(expiry.IsExpired("k"));
    }
}
