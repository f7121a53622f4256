namespace Sluice.Mock;

/// <summary>What the mock's Batch API endpoints have seen, under <c>batches</c> in <c>GET /mock/stats</c>.</summary>
public sealed class MockBatchStats
{
    /// <summary>Files accepted by <c>POST /v1/files</c>.</summary>
    public long FilesUploaded { get; init; }

    /// <summary>Batches created by <c>POST /v1/batches</c>, including those that then fail validation.</summary>
    public long OpenAIBatchesCreated { get; init; }

    /// <summary>Batches created by <c>POST /v1/messages/batches</c>.</summary>
    public long AnthropicBatchesCreated { get; init; }

    /// <summary>Cancels accepted, over both providers.</summary>
    public long BatchesCancelled { get; init; }

    /// <summary>Result lines written in downloads: OpenAI output and error file contents, Anthropic results.</summary>
    public long LinesServed { get; init; }
}
