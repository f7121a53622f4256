using CsCheck;
using Sluice.Mock.Batch;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Tests.Batch;

public class BatchJobTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static BatchJob Job(int lines, double processingSeconds = 100, double windowSeconds = 86_400, (string, string)? validationError = null, Func<int, bool>? succeeds = null) => new()
    {
        Id = "batch_test",
        Provider = Provider.OpenAI,
        CreatedAt = Start,
        ProcessingTime = TimeSpan.FromSeconds(processingSeconds),
        CompletionWindow = TimeSpan.FromSeconds(windowSeconds),
        Lines = [.. Enumerable.Range(0, lines).Select(i => new LineAnswer($"l{i}", 200, "{}", succeeds?.Invoke(i) ?? true, "req_x"))],
        ValidationError = validationError,
    };

    private static BatchView At(BatchJob job, double seconds) => job.ViewAt(Start + TimeSpan.FromSeconds(seconds));

    [Theory]
    [InlineData(0, "Validating", 0)]
    [InlineData(4.999, "Validating", 0)]
    [InlineData(5, "InProgress", 0)]
    [InlineData(13.999, "InProgress", 0)]
    [InlineData(14, "InProgress", 1)]
    [InlineData(94.999, "InProgress", 9)]
    [InlineData(95, "Finalizing", 10)]
    [InlineData(99.999, "Finalizing", 10)]
    [InlineData(100, "Completed", 10)]
    public void ViewAt_FollowsTheTimeline(double seconds, string phase, int done)
    {
        var view = At(Job(10), seconds);

        Assert.Equal(phase, view.Phase.ToString());
        Assert.Equal(done, view.Done);
    }

    [Fact]
    public void ViewAt_CountsSucceededAndErroredAmongTheDoneLines()
    {
        var view = At(Job(10, succeeds: i => i % 3 != 0), 5 + 45);

        Assert.Equal(5, view.Done);
        Assert.Equal(3, view.Succeeded);
        Assert.Equal(2, view.Errored);
    }

    [Fact]
    public void Window_BeforeTheEnd_ExpiresWithTheLinesDoneByThen()
    {
        var job = Job(10, windowSeconds: 50);

        var before = At(job, 49.999);
        var after = At(job, 500);

        Assert.Equal(BatchPhase.InProgress, before.Phase);
        Assert.Equal(BatchPhase.Expired, after.Phase);
        Assert.Equal(5, after.Done);
        Assert.Equal(Start.AddSeconds(50), after.ExpiredAt);
        Assert.Null(after.CompletedAt);
    }

    [Fact]
    public void Window_AfterTheEnd_DoesNotExpire()
    {
        var view = At(Job(10, windowSeconds: 100), 1000);

        Assert.Equal(BatchPhase.Completed, view.Phase);
    }

    [Fact]
    public void Cancel_FreezesTheLinesDone_AndEndsAFinalizingTimeLater()
    {
        var job = Job(10);

        Assert.True(job.TryCancel(Start.AddSeconds(32)));
        Assert.False(job.TryCancel(Start.AddSeconds(33)));

        Assert.Equal(BatchPhase.Cancelling, At(job, 36.999).Phase);
        var cancelled = At(job, 1000);
        Assert.Equal(BatchPhase.Cancelled, cancelled.Phase);
        Assert.Equal(3, cancelled.Done);
        Assert.Equal(Start.AddSeconds(37), cancelled.CancelledAt);
        Assert.False(job.TryCancel(Start.AddSeconds(2000)));
    }

    [Fact]
    public void Cancel_AfterTheEnd_IsRefused()
    {
        var job = Job(10);

        Assert.False(job.TryCancel(Start.AddSeconds(100)));
        Assert.Equal(BatchPhase.Completed, At(job, 200).Phase);
    }

    [Fact]
    public void ValidationError_FailsAtTheEndOfValidation_WithNoLinesDone()
    {
        var job = Job(10, validationError: ("token_limit_exceeded", "too many"));

        Assert.Equal(BatchPhase.Validating, At(job, 4.999).Phase);
        var failed = At(job, 5);
        Assert.Equal(BatchPhase.Failed, failed.Phase);
        Assert.Equal(0, failed.Done);
        Assert.Equal(Start.AddSeconds(5), failed.FailedAt);
    }

    [Fact]
    public void Done_NeverDecreases_AndEveryLineIsDoneAtTheEnd()
    {
        Gen.Select(Gen.Int[1, 5000], Gen.Double[0.001, 1000], Gen.Double[0, 2000], Gen.Double[0, 2000]).Sample((lines, processing, t1, t2) =>
        {
            var job = Job(lines, processing);
            var (early, late) = t1 <= t2 ? (t1, t2) : (t2, t1);
            var a = At(job, early);
            var b = At(job, late);
            return a.Done <= b.Done && b.Done <= lines && (late < processing || (b.Done == lines && b.Phase == BatchPhase.Completed));
        });
    }
}
