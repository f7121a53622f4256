namespace Sluice.Mock.Requests;

/// <summary>Whose conventions an answer follows: error shapes, rate-limit headers, request id header.</summary>
internal enum Provider
{
    OpenAI,
    Anthropic,
}
