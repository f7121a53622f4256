using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

public sealed class RunProgressJsonTests
{
    [Theory]
    [InlineData("quota used up:\nline two\r\n\"three\" \u2028 \u0085 <b>")]
    [InlineData("a lone \ud800 surrogate")]
    [InlineData("")]
    public void JsonMessage_AnyText_IsOneLineOfJson_CarryingIt(string message)
    {
        string line = RunProgress.JsonMessage(new FakeTimeProvider(), "stopped", message);

        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.DoesNotContain('\u2028', line);
        using var document = JsonDocument.Parse(line);
        Assert.Equal("stopped", document.RootElement.GetProperty("event").GetString());
        Assert.Equal(message.Replace('\ud800', '\ufffd'), document.RootElement.GetProperty("message").GetString());
    }
}
