namespace Sluice.Mock.Batch;

/// <summary>An uploaded OpenAI file: its bytes and what <c>GET /v1/files/{id}</c> reports.</summary>
internal sealed record StoredFile(string Id, string Filename, string Purpose, DateTimeOffset CreatedAt, byte[] Content);
