using System.Text;

namespace Sluice.Proxy.Tests;

/// <summary>Issue 14, finding 9: a relayed error body does not show the proxy's key, whole or masked.</summary>
public sealed class ProxyRedactionTests
{
    private const string Held = "sk-proj-HeldKeyAbcdefghijklmnopqrstuvwxyz0123456789";

    [Theory]
    [InlineData("Incorrect API key provided: sk-abc12***************************************xyz9.", "Incorrect API key provided: [redacted by sluice proxy].")]
    [InlineData("Incorrect API key provided: sk-proj-********6789. You can", "Incorrect API key provided: [redacted by sluice proxy]. You can")]
    [InlineData("key sk-abc...xyz was rejected", "key [redacted by sluice proxy] was rejected")]
    [InlineData("{\"message\":\"sk-ant-api03-abcDEF_123-xyz\"}", "{\"message\":\"[redacted by sluice proxy]\"}")]
    [InlineData("the key " + Held + " is wrong", "the key [redacted by sluice proxy] is wrong")]
    [InlineData("ask-me and task-sk-1 stay", "ask-me and task-sk-1 stay")]
    public void KeyLikeText_IsReplaced_AndTheRestKept(string body, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(ProxyRedaction.Redact(Encoding.UTF8.GetBytes(body), Held)));

    [Fact]
    public void HeldKeyOfAnyForm_IsReplaced() =>
        Assert.Equal("bad key [redacted by sluice proxy]", Encoding.UTF8.GetString(ProxyRedaction.Redact("bad key 0123456789abcdef0123456789abcdef"u8.ToArray(), "0123456789abcdef0123456789abcdef")));

    [Fact]
    public void BodyWithoutKeys_IsTheSameArray()
    {
        byte[] body = "{\"error\":{\"message\":\"quota\"}}"u8.ToArray();

        Assert.Same(body, ProxyRedaction.Redact(body, Held));
    }

    [Fact]
    public void BodyThatIsNotUtf8_IsPassedAsItCame()
    {
        byte[] body = [0xff, 0xfe, .. "sk-abcdef"u8.ToArray()];

        Assert.Same(body, ProxyRedaction.Redact(body, Held));
    }
}
