namespace Sluice.Cli.BatchApi;

/// <summary>The provider refused a Batch API call for good (not a 429 or a 5xx, which are retried): the run stops.</summary>
internal sealed class BatchApiException(int statusCode, string message) : Exception(message)
{
    /// <summary>The HTTP status of the refusal.</summary>
    public int StatusCode { get; } = statusCode;
}
