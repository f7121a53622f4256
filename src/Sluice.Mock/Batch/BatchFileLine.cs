namespace Sluice.Mock.Batch;

/// <summary>One line of an OpenAI batch input file: where it starts and ends in the file, and what it names.</summary>
/// <param name="Number">The 1-based line number.</param>
/// <param name="Start">The byte offset of its first byte.</param>
/// <param name="Length">Its length in bytes, without the line break.</param>
/// <param name="CustomId">Its <c>custom_id</c>.</param>
/// <param name="Url">Its <c>url</c>, such as <c>/v1/chat/completions</c>.</param>
/// <param name="Model">Its <c>body.model</c>.</param>
internal sealed record BatchFileLine(int Number, int Start, int Length, string CustomId, string Url, string Model);
