using System.Net;
using System.Text;
using Sluice.Engine;

namespace Sluice.Tests.Engine;

public sealed class StopAnswersTests
{
    [Fact]
    public async Task For_ReplaysTheStoppingAnswer_WithItsStatusBodyAndHeaders_AsANewResponseEachTime()
    {
        var answers = new StopAnswers();
        answers.Remember("p", Stopping(), Encoding.UTF8.GetBytes("""{"error":{"code":"insufficient_quota"}}"""));
        answers.Bind("p", "quota exhausted");
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://api.example.com/v1/chat/completions");

        using var first = answers.For("p", "quota exhausted", request)!;
        using var second = answers.For("p", "quota exhausted", null)!;

        Assert.NotSame(first, second);
        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal("Too Many", first.ReasonPhrase);
        Assert.Same(request, first.RequestMessage);
        Assert.Equal("application/json", first.Content.Headers.ContentType!.MediaType);
        Assert.Equal(["req-1"], first.Headers.GetValues("x-request-id"));
        Assert.Equal("""{"error":{"code":"insufficient_quota"}}""", await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Bind_WhenTheRequestStoppedNothing_DropsTheAnswer()
    {
        var answers = new StopAnswers();
        answers.Remember("p", Stopping(), [1]);

        answers.Bind("p", stopReason: null);

        Assert.Equal(0, answers.Count);
        Assert.Null(answers.For("p", null, null));
    }

    [Fact]
    public void Bind_KeepsTheFirstStopItWasTiedTo_AndALaterStopGetsNoOldAnswer()
    {
        var answers = new StopAnswers();
        answers.Remember("p", Stopping(), [1]);
        answers.Bind("p", "key rejected");

        answers.Bind("p", "parked");

        Assert.NotNull(answers.For("p", "key rejected", null));
        Assert.Null(answers.For("p", "parked", null));
        Assert.Null(answers.For("other", "key rejected", null));
    }

    [Fact]
    public void Forget_RemovesThePartitionsAnswer()
    {
        var answers = new StopAnswers();
        answers.Remember("p", Stopping(), [1]);

        answers.Forget("p");

        Assert.Equal(0, answers.Count);
        Assert.Null(answers.For("p", null, null));
    }

    private static HttpResponseMessage Stopping()
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests) { ReasonPhrase = "Too Many", Content = new StringContent("ignored", Encoding.UTF8, "application/json") };
        response.Headers.TryAddWithoutValidation("x-request-id", "req-1");
        return response;
    }
}
