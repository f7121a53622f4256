using System.Text.Json;
using Sluice.Integration.Tests.Run;
using Sluice.Integration.Tests.Support;

namespace Sluice.Integration.Tests.Nginx;

/// <summary>
/// <c>sluice run</c> against a limiter nobody on the team wrote: nginx <c>limit_req</c> (20 r/s, burst 5, nodelay) in
/// front of answers after 50 ms, refusing with a bare 429 — no <c>Retry-After</c>, no rate-limit headers. These check
/// behaviour, not speed: every request exactly once, every line valid, and no 429 storm (a generous bound).
/// </summary>
/// <remarks>Counts throttled attempts, so it runs alone like the other pacing measurements.</remarks>
[Collection(Http.PacingMeasurements.Name)]
public sealed class RunAgainstNginxTests
{
    private const int Lines = 200;

    /// <summary>A run that storms the limiter sends more than a 429 per three 200s; a paced one far fewer.</summary>
    private const double MaxThrottledShare = 0.25;

    private static readonly NginxSite Site = new(new NginxLimit(RequestsPerSecond: 20, Burst: 5, NoDelay: true), TimeSpan.FromMilliseconds(50));

    [Fact]
    public Task ToldTheRate_EveryIdOnceWithA200_AndFew429s() => RunAsync("--rpm", "1200");

    [Fact]
    public Task ToldNothing_EveryIdOnceWithA200_AndFew429s() => RunAsync();

    private static async Task RunAsync(params string[] extra)
    {
        using var files = new BatchFiles(Lines);
        await using var nginx = await NginxServer.StartAsync(Site).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(nginx.BaseUrl, extra);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        // ReadLines parses every line on its own: a line that is not one JSON value fails here.
        var lines = BatchFiles.ReadLines(files.Results);
        Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));
        Assert.All(lines, line =>
        {
            Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32());
            Assert.Equal(JsonValueKind.Null, line.GetProperty("error").ValueKind);
            Assert.Equal("A summary.", line.GetProperty("response").GetProperty("body").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        });
        Assert.Empty(BatchFiles.ReadLines(files.Errors));

        var statuses = await nginx.StatusCountsAsync(succeeded: Lines);
        Assert.True(statuses.Keys.All(s => s is 200 or 429), $"statuses: {Describe(statuses)}");
        int attempts = statuses.Values.Sum();
        int throttled = statuses.GetValueOrDefault(429);
        Assert.True(statuses.GetValueOrDefault(200) >= Lines, $"statuses: {Describe(statuses)}");
        Assert.True(throttled <= MaxThrottledShare * attempts, $"{throttled} of {attempts} attempts were 429\n{output}");
    }

    private static string Describe(IReadOnlyDictionary<int, int> statuses) =>
        string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"));
}
