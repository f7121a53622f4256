namespace Sluice.Mock.Batch;

/// <summary>
/// What one batch line's request was answered, made when the batch is created so that revealing it later
/// needs no work under the store's lock.
/// </summary>
/// <param name="CustomId">The line's <c>custom_id</c>.</param>
/// <param name="Status">The HTTP status the live endpoint would have answered.</param>
/// <param name="Body">The answer's JSON body: the endpoint's reply, or the provider's error.</param>
/// <param name="Succeeded">Whether the answer is a 200.</param>
/// <param name="RequestId">The request id the answer carries.</param>
internal sealed record LineAnswer(string CustomId, int Status, string Body, bool Succeeded, string RequestId);
