using System.Net;
using Sluice.Engine;

namespace Sluice.Tests.Engine;

public sealed class TriedAnswersTests
{
    [Fact]
    public void ReleaseAllBut_DisposesEverySupersededAnswer_AndKeepsTheFinalOne()
    {
        var answers = new TriedAnswers();
        var (failed, failedBody) = Answer(HttpStatusCode.InternalServerError);
        var (final, finalBody) = Answer(HttpStatusCode.OK);
        var (lostHedge, lostBody) = Answer(HttpStatusCode.OK);
        answers.Add(failed);
        answers.Add(null);
        answers.Add(final);
        answers.Add(lostHedge);

        answers.ReleaseAllBut(final);

        Assert.True(failedBody.Disposed);
        Assert.True(lostBody.Disposed);
        Assert.False(finalBody.Disposed);
        final.Dispose();
    }

    [Fact]
    public void Add_AfterTheJobEnded_DisposesTheLateAnswerAtOnce()
    {
        var answers = new TriedAnswers();
        answers.ReleaseAllBut(null);
        var (late, lateBody) = Answer(HttpStatusCode.OK);

        answers.Add(late);

        Assert.True(lateBody.Disposed);
    }

    private static (HttpResponseMessage Response, TrackedContent Body) Answer(HttpStatusCode status)
    {
        var body = new TrackedContent();
        return (new HttpResponseMessage(status) { Content = body }, body);
    }

    private sealed class TrackedContent : HttpContent
    {
        public bool Disposed { get; private set; }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => Task.CompletedTask;

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
