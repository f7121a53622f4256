using System.Net.Http.Json;

namespace Sluice.Browser.Tests.Support;

/// <summary>
/// Clients sending chat completions through the proxy until stopped, each as soon as its last one was answered: the
/// requests the dashboard must show as they flow.
/// </summary>
internal sealed class Traffic : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _client;
    private readonly List<Task> _workers = [];
    private long _answered;

    /// <summary>Starts <paramref name="clients"/> clients posting to <paramref name="path"/> with <paramref name="headers"/>.</summary>
    public Traffic(Uri proxy, int clients, string path = "v1/chat/completions", IReadOnlyDictionary<string, string>? headers = null)
    {
        _client = new HttpClient { BaseAddress = proxy, Timeout = DashboardHost.Bound };
        for (int i = 0; i < clients; i++)
        {
            _workers.Add(Task.Run(() => SendUntilStoppedAsync(path, headers ?? new Dictionary<string, string>())));
        }
    }

    /// <summary>Answers received (any status).</summary>
    public long Answered => Interlocked.Read(ref _answered);

    private async Task SendUntilStoppedAsync(string path, IReadOnlyDictionary<string, string> headers)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path)
                {
                    Content = JsonContent.Create(new { model = "gpt-4o-mini", max_tokens = 20, messages = new[] { new { role = "user", content = "hello" } } }),
                };
                foreach (var (name, value) in headers)
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }

                using var response = await _client.SendAsync(request, _stop.Token);
                await response.Content.ReadAsByteArrayAsync(_stop.Token);
                Interlocked.Increment(ref _answered);
            }
            catch (HttpRequestException)
            {
                // The proxy went away (a test stopped it): try again a little later, until stopped.
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).WaitAsync(DashboardHost.Bound);
        _client.Dispose();
        _stop.Dispose();
    }
}
