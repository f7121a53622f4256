using BenchmarkDotNet.Attributes;
using Sluice.Cli.Run;

namespace Sluice.Benchmarks;

/// <summary>
/// Final outcomes committed per second by <c>sluice run</c>'s journal (SQLite, WAL, group commit): outcomes arriving
/// together are written in one transaction. Each iteration records 10,000 outcomes of a realistic size into a fresh
/// journal and waits until all are committed; the mean is per outcome.
/// </summary>
[MemoryDiagnoser]
public class JournalBenchmarks
{
    private const int Outcomes = 10_000;

    // A typical results line: an OpenAI Batch API output line with a short chat answer, about 600 bytes.
    private static readonly string Line = "{\"id\":\"batch_req_0001\",\"custom_id\":\"post-1\",\"response\":{\"status_code\":200,\"request_id\":\"req_1\",\"body\":{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + new string('x', 400) + "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":100,\"total_tokens\":130}}},\"error\":null}";

    private string _directory = null!;
    private RunJournal _journal = null!;
    private int _iteration;

    [GlobalSetup]
    public void Setup() => _directory = Directory.CreateTempSubdirectory("sluice-journal-bench").FullName;

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [IterationSetup]
    public void OpenJournal() =>
        _journal = RunJournal.Open(Path.Combine(_directory, $"j{_iteration++}.journal"), "fingerprint", "bench.jsonl");

    [IterationCleanup]
    public void CloseJournal() => _journal.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>10,000 outcomes arriving together, as a busy run's do; per outcome.</summary>
    [Benchmark(OperationsPerInvoke = Outcomes)]
    public async Task Record_GroupCommit()
    {
        var committed = new Task[Outcomes];
        for (int i = 0; i < Outcomes; i++)
        {
            committed[i] = _journal.RecordAsync($"post-{i}", i + 1, succeeded: true, Line);
        }

        await Task.WhenAll(committed);
        await _journal.FlushAsync();
    }
}
