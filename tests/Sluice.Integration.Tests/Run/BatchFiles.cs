using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sluice.Cli.Run;

namespace Sluice.Integration.Tests.Run;

/// <summary>A temporary directory with a batch file, and helpers to run <c>sluice run</c> in-process and read its outputs.</summary>
internal sealed class BatchFiles : IDisposable
{
    public const string KeyVariable = "SLUICE_RUN_TEST_KEY";
    public const string Key = "sk-run-test-secret-0123456789";
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    static BatchFiles() => Environment.SetEnvironmentVariable(KeyVariable, Key);

    public BatchFiles(int count, Func<int, string>? model = null, Func<int, string>? content = null, string url = "/v1/chat/completions")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("sluice-run-e2e-").FullName;
        Input = Path.Combine(Directory, "requests.jsonl");
        Ids = Enumerable.Range(1, count).Select(i => $"req-{i}").ToArray();
        var text = new StringBuilder();
        for (int i = 1; i <= count; i++)
        {
            text.Append(Line(i, model?.Invoke(i) ?? "gpt-4o-mini", content?.Invoke(i) ?? $"Summarise post {i}.", url)).Append('\n');
        }

        File.WriteAllText(Input, text.ToString(), new UTF8Encoding(false));
    }

    public string Directory { get; }

    public string Input { get; }

    public string Results => Path.Combine(Directory, "results.jsonl");

    public string Errors => Path.Combine(Directory, "results.errors.jsonl");

    public string Journal => Results + ".journal";

    public IReadOnlyList<string> Ids { get; }

    public static string Line(int i, string model, string content, string url = "/v1/chat/completions") => new JsonObject
    {
        ["custom_id"] = $"req-{i}",
        ["method"] = "POST",
        ["url"] = url,
        ["body"] = new JsonObject
        {
            ["model"] = model,
            ["max_tokens"] = 20,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
        },
    }.ToJsonString();

    public string[] Arguments(Uri baseUrl, params string[] extra) =>
        ["run", Input, "-o", Results, "--base-url", baseUrl.ToString(), "--api-key-env", KeyVariable, .. extra];

    public async Task<(int ExitCode, string Output, string Error)> RunAsync(Uri baseUrl, params string[] extra)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var arguments = Arguments(baseUrl, extra);
        int exitCode = await Cli.SluiceCommandLine.InvokeAsync(arguments, new System.CommandLine.InvocationConfiguration { Output = output, Error = error }).WaitAsync(Bound);
        return (exitCode, output.ToString(), error.ToString());
    }

    public static List<JsonElement> ReadLines(string path) =>
        File.Exists(path) ? [.. File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone())] : [];

    public static string IdOf(JsonElement line) => line.GetProperty("custom_id").GetString()!;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    // RunCommand is the entry point; naming it here keeps the reference explicit.
    public static Type CommandType => typeof(RunCommand);
}
