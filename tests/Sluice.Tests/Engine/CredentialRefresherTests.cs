using Sluice.Engine;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Engine;

public sealed class CredentialRefresherTests
{
    [Fact]
    public async Task Refresh_CallsTheHookOncePerRejectedCredential_HoweverManyRequestsWereRejectedWithIt()
    {
        int calls = 0;
        using var refresher = new CredentialRefresher(async (message, _) =>
        {
            Interlocked.Increment(ref calls);
            await Task.Yield();
            SetKey(message, "sk-new");
            return true;
        });
        var rejected = Enumerable.Range(0, 5).Select(_ => Keyed("sk-old")).ToArray();
        string old = PartitionKeys.Fingerprint(rejected[0]);

        bool[] resend = await Task.WhenAll(rejected.Select(r => refresher.RefreshAsync(r, old, CancellationToken.None).AsTask())).DefaultTimeout();

        Assert.Equal(1, calls);
        Assert.All(resend, Assert.True);
        Assert.All(rejected, r => Assert.Equal("Bearer sk-new", r.Headers.Authorization!.ToString()));
    }

    [Fact]
    public async Task Apply_FollowsEveryRefreshInTurn_AndReplacesEveryCredentialHeader()
    {
        string next = "sk-2";
        using var refresher = new CredentialRefresher((message, _) =>
        {
            message.Headers.Remove("Authorization");
            message.Headers.Remove("x-api-key");
            message.Headers.TryAddWithoutValidation("x-api-key", next);
            return ValueTask.FromResult(true);
        });
        var first = Keyed("sk-1");
        await refresher.RefreshAsync(first, PartitionKeys.Fingerprint(Keyed("sk-1")), CancellationToken.None);
        next = "sk-3";
        var second = Keyed("sk-2", header: "x-api-key");
        await refresher.RefreshAsync(second, PartitionKeys.Fingerprint(Keyed("sk-2", header: "x-api-key")), CancellationToken.None);

        // A request an SDK still sends with the first key gets the latest one, and none of the old headers.
        var late = Keyed("sk-1");
        refresher.Apply(late);

        Assert.False(late.Headers.Contains("Authorization"));
        Assert.Equal(["sk-3"], late.Headers.GetValues("x-api-key"));
    }

    [Fact]
    public async Task Apply_ACycleOfRefreshes_EndsAfterABoundedNumberOfHops()
    {
        // The hook hands back the other of two keys each time: a -> b, then b -> a. Applying must stop, not spin.
        using var refresher = new CredentialRefresher((message, _) =>
        {
            SetKey(message, message.Headers.Authorization!.Parameter == "sk-a" ? "sk-b" : "sk-a");
            return ValueTask.FromResult(true);
        });
        await refresher.RefreshAsync(Keyed("sk-a"), PartitionKeys.Fingerprint(Keyed("sk-a")), CancellationToken.None);
        await refresher.RefreshAsync(Keyed("sk-b"), PartitionKeys.Fingerprint(Keyed("sk-b")), CancellationToken.None);

        var request = Keyed("sk-a");
        await Task.Run(() => refresher.Apply(request)).DefaultTimeout();

        // Eight hops from a: b, a, b, a, b, a, b, a.
        Assert.Equal("Bearer sk-a", request.Headers.Authorization!.ToString());
    }

    [Fact]
    public async Task Refresh_WhenTheHookDeclinesOrLeavesTheSameCredential_SaysDoNotResend_AndRemembersNothing()
    {
        int calls = 0;
        bool accept = false;
        using var refresher = new CredentialRefresher((_, _) =>
        {
            calls++;
            return ValueTask.FromResult(accept);
        });
        string old = PartitionKeys.Fingerprint(Keyed("sk-old"));

        bool declined = await refresher.RefreshAsync(Keyed("sk-old"), old, CancellationToken.None);
        accept = true;
        bool unchanged = await refresher.RefreshAsync(Keyed("sk-old"), old, CancellationToken.None);
        bool again = await refresher.RefreshAsync(Keyed("sk-old"), old, CancellationToken.None);

        Assert.False(declined);
        Assert.False(unchanged);
        Assert.False(again);
        // Nothing was stored for the old key, so each rejection asked the hook again.
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task Refresh_ARequestAlreadyCarryingANewerKey_IsResentWithoutCallingTheHook()
    {
        int calls = 0;
        using var refresher = new CredentialRefresher((message, _) =>
        {
            calls++;
            SetKey(message, "sk-new");
            return ValueTask.FromResult(true);
        });
        string old = PartitionKeys.Fingerprint(Keyed("sk-old"));
        await refresher.RefreshAsync(Keyed("sk-old"), old, CancellationToken.None);

        var straggler = Keyed("sk-old");
        bool resend = await refresher.RefreshAsync(straggler, old, CancellationToken.None);

        Assert.True(resend);
        Assert.Equal(1, calls);
        Assert.Equal("Bearer sk-new", straggler.Headers.Authorization!.ToString());
    }

    private static HttpRequestMessage Keyed(string key, string header = "Authorization")
    {
        var message = new HttpRequestMessage(HttpMethod.Post, "https://api.example.com/v1/chat/completions");
        message.Headers.TryAddWithoutValidation(header, header == "Authorization" ? "Bearer " + key : key);
        return message;
    }

    private static void SetKey(HttpRequestMessage message, string key) =>
        message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
}
