using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Batch;

/// <summary>
/// OpenAI's Files API as far as batches use it: <c>POST /v1/files</c> (multipart, <c>purpose=batch</c>),
/// <c>GET /v1/files/{id}</c>, <c>GET /v1/files/{id}/content</c> and <c>DELETE /v1/files/{id}</c>. Output and
/// error files of ended batches are served here too.
/// </summary>
internal sealed class OpenAIFilesEndpoint(BatchHttp http)
{
    // Room for the multipart framing and the purpose field around the file itself.
    private const long FramingAllowance = 1024 * 1024;

    public Task UploadAsync(HttpContext context) => http.HandleAsync(context, Provider.OpenAI, async (c, ct) =>
    {
        if (!HttpMethods.IsPost(c.Request.Method))
        {
            await http.NotFoundAsync(c, Provider.OpenAI, ct).ConfigureAwait(false);
            return;
        }

        var store = http.Store;
        BatchHttp.AllowBody(c, store.MaxFileBytes + FramingAllowance);
        var (form, error) = await ReadFormAsync(c, store.MaxFileBytes, ct).ConfigureAwait(false);
        if (form is null)
        {
            await http.ErrorAsync(c, Provider.OpenAI, error!, ct).ConfigureAwait(false);
            return;
        }

        if (form.Purpose != "batch")
        {
            await http.ErrorAsync(c, Provider.OpenAI, Invalid(
                form.Purpose is null ? "Missing required parameter: 'purpose'." : $"Invalid value for 'purpose': '{form.Purpose}'. The mock accepts only 'batch'.",
                "purpose", form.Purpose is null ? "missing_required_parameter" : "invalid_value"), ct).ConfigureAwait(false);
            return;
        }

        var (_, lineError) = BatchFileValidator.Validate(form.Content, store.MaxRequests);
        if (lineError is not null)
        {
            await http.ErrorAsync(c, Provider.OpenAI, lineError, ct).ConfigureAwait(false);
            return;
        }

        var file = new StoredFile(store.Ids.File(), form.Filename, "batch", store.Time.GetUtcNow(), form.Content);
        if (!store.TryAddFile(file))
        {
            await http.ErrorAsync(c, Provider.OpenAI, Invalid(
                $"The mock holds at most {store.MaxStoredBytes} bytes of files; delete files before uploading more.", "file", "storage_limit_exceeded"), ct).ConfigureAwait(false);
            return;
        }

        await http.JsonAsync(c, Provider.OpenAI, StatusCodes.Status200OK, w => WriteFile(w, file.Id, file.Filename, file.Purpose, file.CreatedAt, file.Content.LongLength), ct).ConfigureAwait(false);
    });

    public Task FileAsync(HttpContext context) => http.HandleAsync(context, Provider.OpenAI, async (c, ct) =>
    {
        var id = BatchHttp.RouteId(c);
        if (HttpMethods.IsDelete(c.Request.Method))
        {
            if (!http.Store.DeleteFile(id))
            {
                await http.ErrorAsync(c, Provider.OpenAI, NoSuchFile(id), ct).ConfigureAwait(false);
                return;
            }

            await http.JsonAsync(c, Provider.OpenAI, StatusCodes.Status200OK, w =>
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("object", "file");
                w.WriteBoolean("deleted", true);
                w.WriteEndObject();
            }, ct).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(c.Request.Method))
        {
            await http.NotFoundAsync(c, Provider.OpenAI, ct).ConfigureAwait(false);
            return;
        }

        if (Find(id) is not { } found)
        {
            await http.ErrorAsync(c, Provider.OpenAI, NoSuchFile(id), ct).ConfigureAwait(false);
            return;
        }

        await http.JsonAsync(c, Provider.OpenAI, StatusCodes.Status200OK, w => WriteFile(w, id, found.Filename, found.Purpose, found.CreatedAt, found.Content.LongLength), ct).ConfigureAwait(false);
    });

    public Task ContentAsync(HttpContext context) => http.HandleAsync(context, Provider.OpenAI, async (c, ct) =>
    {
        var id = BatchHttp.RouteId(c);
        if (!HttpMethods.IsGet(c.Request.Method))
        {
            await http.NotFoundAsync(c, Provider.OpenAI, ct).ConfigureAwait(false);
            return;
        }

        if (Find(id) is not { } found)
        {
            await http.ErrorAsync(c, Provider.OpenAI, NoSuchFile(id), ct).ConfigureAwait(false);
            return;
        }

        http.Store.Counters.LinesServed(found.Lines);
        await BatchHttp.BytesAsync(c, "application/octet-stream", found.Content, ct).ConfigureAwait(false);
    });

    /// <summary>The file object's fields, written the way OpenAI lists them.</summary>
    public static void WriteFile(Utf8JsonWriter w, string id, string filename, string purpose, DateTimeOffset createdAt, long bytes)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "file");
        w.WriteNumber("bytes", bytes);
        w.WriteNumber("created_at", createdAt.ToUnixTimeSeconds());
        w.WriteNull("expires_at");
        w.WriteString("filename", filename);
        w.WriteString("purpose", purpose);
        w.WriteString("status", "processed");
        w.WriteNull("status_details");
        w.WriteEndObject();
    }

    private static ApiError NoSuchFile(string id) => new(404, "invalid_request_error", $"No such File object: {id}", "id", null, "not_found");

    private static ApiError Invalid(string message, string param, string code) => new(400, "invalid_request_error", message, param, code, "invalid_request");

    /// <summary>An upload, or an ended batch's output or error file (its content made now; it no longer changes).</summary>
    private (string Filename, string Purpose, DateTimeOffset CreatedAt, byte[] Content, int Lines)? Find(string id)
    {
        if (http.Store.GetUpload(id) is { } upload)
        {
            return (upload.Filename, upload.Purpose, upload.CreatedAt, upload.Content, 0);
        }

        if (http.Store.GetResultFile(id) is not { } result)
        {
            return null;
        }

        var (job, view) = result;
        var output = id == job.OutputFileId;
        var (content, lines) = BatchResults.OpenAIFile(job, view, output);
        return ($"batch_{job.Id}_{(output ? "output" : "error")}.jsonl", "batch_output", view.EndedAt!.Value, content, lines);
    }

    private sealed record UploadForm(string? Purpose, string Filename, byte[] Content);

    /// <summary>Reads the multipart form, keeping at most <paramref name="maxFileBytes"/> of the file part.</summary>
    private static async Task<(UploadForm? Form, ApiError? Error)> ReadFormAsync(HttpContext c, long maxFileBytes, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(c.Request.ContentType, out var mediaType) ||
            !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) ||
            HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return (null, Invalid("The request must be multipart/form-data with the fields 'purpose' and 'file'.", "file", "invalid_request"));
        }

        var reader = new MultipartReader(boundary, c.Request.Body);
        string? purpose = null;
        string? filename = null;
        byte[]? content = null;
        try
        {
            while (await reader.ReadNextSectionAsync(ct).ConfigureAwait(false) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "purpose")
                {
                    using var text = new StreamReader(section.Body);
                    purpose = (await text.ReadToEndAsync(ct).ConfigureAwait(false)).Trim();
                }
                else if (name == "file")
                {
                    filename = HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "file.jsonl";
                    content = await ReadBoundedAsync(section.Body, maxFileBytes, ct).ConfigureAwait(false);
                    if (content is null)
                    {
                        return (null, Invalid($"File is too large: a batch input file may have at most {maxFileBytes} bytes.", "file", "file_too_large"));
                    }
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Invalid($"File is too large: a batch input file may have at most {maxFileBytes} bytes.", "file", "file_too_large"));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return (null, Invalid("The multipart/form-data body could not be read.", "file", "invalid_request"));
        }

        return content is null
            ? (null, Invalid("Missing required parameter: 'file'.", "file", "missing_required_parameter"))
            : (new UploadForm(purpose, filename!, content), null);
    }

    private static async Task<byte[]?> ReadBoundedAsync(Stream body, long maxBytes, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
