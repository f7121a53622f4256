using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sluice.Proxy.Tests;

/// <summary>
/// An upstream that writes exactly the response bytes a test gives, on every connection: for answers Kestrel would
/// not send as written (a <c>Connection</c> header naming other headers).
/// </summary>
internal sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private RawUpstream(string response)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync(Encoding.UTF8.GetBytes(response));
    }

    public Uri Url { get; }

    public static RawUpstream Start(string response) => new(response);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(EdgeHost.Bound);
        _stop.Dispose();
    }

    private async Task AcceptAsync(byte[] response)
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = AnswerAsync(client, response);
        }
    }

    private async Task AnswerAsync(TcpClient client, byte[] response)
    {
        using (client)
        {
            var stream = client.GetStream();
            var seen = new List<byte>();
            byte[] buffer = new byte[16 * 1024];

            // Reads the head and a body of the declared length, then answers and closes.
            while (true)
            {
                int read = await stream.ReadAsync(buffer, _stop.Token).AsTask().WaitAsync(EdgeHost.Bound);
                if (read == 0)
                {
                    return;
                }

                seen.AddRange(buffer.AsSpan(0, read));
                string text = Encoding.ASCII.GetString([.. seen]);
                int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    var length = System.Text.RegularExpressions.Regex.Match(text[..end], @"(?im)^content-length:\s*(\d+)");
                    if (!length.Success || seen.Count - end - 4 >= int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
                    {
                        break;
                    }
                }
            }

            await stream.WriteAsync(response, _stop.Token);
        }
    }
}
