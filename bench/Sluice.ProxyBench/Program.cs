using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

// The overhead of `sluice proxy`: the same requests sent to `sluice mock` directly and through the proxy, both at
// loopback with no limits and no mock latency, so every difference is the proxy's. Not a test; see docs/proxy.md.
//
//   dotnet build Sluice.slnx -c Release
//   dotnet run -c Release --project bench/Sluice.ProxyBench -- [--requests 2000] [--concurrency 64] [--seconds 10]
//
// 1. Latency: requests one at a time, alternating direct and proxied, plain and streaming; p50 and p99 of each, and
//    the difference (the added latency).
// 2. Throughput: CONCURRENCY closed-loop clients for SECONDS against each; requests per second, and the proxy's as a
//    fraction of direct.
var options = Options.Parse(args);
string cli = Path.Combine(RepositoryRoot(), "src", "Sluice.Cli", "bin", "Release", "net10.0", "Sluice.Cli.dll");
if (!File.Exists(cli))
{
    Console.Error.WriteLine($"build first: dotnet build Sluice.slnx -c Release ({cli} is missing)");
    return 2;
}

int mockPort = FreePort();
int proxyPort = FreePort();
using var mock = Start(cli, $"mock --listen 127.0.0.1:{mockPort} --any-model");
using var proxy = Start(cli, $"proxy --upstream http://127.0.0.1:{mockPort} --listen 127.0.0.1:{proxyPort}");
try
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 10_000, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };
    var direct = new Uri($"http://127.0.0.1:{mockPort}/v1/chat/completions");
    var proxied = new Uri($"http://127.0.0.1:{proxyPort}/v1/chat/completions");
    await WaitUntilServingAsync(http, new Uri($"http://127.0.0.1:{mockPort}/mock/stats"));
    await WaitUntilServingAsync(http, new Uri($"http://127.0.0.1:{proxyPort}/healthz"));

    Console.WriteLine($"sluice proxy overhead: {Environment.ProcessorCount} cores, {options.Requests} sequential requests per case, " +
        $"{options.Concurrency} concurrent clients for {options.Seconds} s per throughput case; mock with no latency, 20-token replies.");
    Console.WriteLine();
    Console.WriteLine("| case | direct p50 | proxy p50 | added p50 | direct p99 | proxy p99 | added p99 |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    foreach (bool stream in new[] { false, true })
    {
        // Warm both paths (JIT, connection pools, the proxy's tokenizer) before measuring.
        for (int i = 0; i < 200; i++)
        {
            await SendAsync(http, direct, stream);
            await SendAsync(http, proxied, stream);
        }

        var directTimes = new List<double>(options.Requests);
        var proxiedTimes = new List<double>(options.Requests);
        for (int i = 0; i < options.Requests; i++)
        {
            // Alternate which goes first, so drift in the machine's load falls on both alike.
            bool directFirst = i % 2 == 0;
            var first = await TimeAsync(http, directFirst ? direct : proxied, stream);
            var second = await TimeAsync(http, directFirst ? proxied : direct, stream);
            (directFirst ? directTimes : proxiedTimes).Add(first);
            (directFirst ? proxiedTimes : directTimes).Add(second);
        }

        double d50 = Percentile(directTimes, 0.50), p50 = Percentile(proxiedTimes, 0.50);
        double d99 = Percentile(directTimes, 0.99), p99 = Percentile(proxiedTimes, 0.99);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {(stream ? "streaming" : "plain")} | {d50:F2} ms | {p50:F2} ms | {p50 - d50:F2} ms | {d99:F2} ms | {p99:F2} ms | {p99 - d99:F2} ms |"));
    }

    Console.WriteLine();
    Console.WriteLine("| case | direct req/s | proxy req/s | proxy / direct |");
    Console.WriteLine("|---|---|---|---|");
    foreach (bool stream in new[] { false, true })
    {
        double directRate = await ThroughputAsync(http, direct, stream, options);
        double proxiedRate = await ThroughputAsync(http, proxied, stream, options);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {(stream ? "streaming" : "plain")} | {directRate:F0} | {proxiedRate:F0} | {proxiedRate / directRate:P0} |"));
    }

    return 0;
}
finally
{
    Stop(proxy);
    Stop(mock);
}

static async Task<double> TimeAsync(HttpClient http, Uri url, bool stream)
{
    long started = TimeProvider.System.GetTimestamp();
    await SendAsync(http, url, stream);
    return TimeProvider.System.GetElapsedTime(started).TotalMilliseconds;
}

static async Task SendAsync(HttpClient http, Uri url, bool stream, CancellationToken cancellationToken = default)
{
    string body = stream
        ? """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise this blog post in one sentence."}],"max_tokens":20,"stream":true}"""
        : """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise this blog post in one sentence."}],"max_tokens":20}""";
    using var content = new StringContent(body, Encoding.UTF8, "application/json");
    using var response = await http.PostAsync(url, content, cancellationToken);
    byte[] answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
    if (response.StatusCode != HttpStatusCode.OK || answer.Length == 0)
    {
        throw new InvalidOperationException($"{url} answered {(int)response.StatusCode}");
    }
}

static async Task<double> ThroughputAsync(HttpClient http, Uri url, bool stream, Options options)
{
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.Seconds), TimeProvider.System);
    long completed = 0;
    long started = TimeProvider.System.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await SendAsync(http, url, stream, stop.Token);
                Interlocked.Increment(ref completed);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }
    }));
    return completed / TimeProvider.System.GetElapsedTime(started).TotalSeconds;
}

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToArray();
    return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

static async Task WaitUntilServingAsync(HttpClient http, Uri url)
{
    long started = TimeProvider.System.GetTimestamp();
    while (true)
    {
        try
        {
            using var response = await http.GetAsync(url);
            if (response.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException) when (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(30))
        {
        }

        await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
    }
}

static Process Start(string cli, string arguments)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    start.ArgumentList.Add(cli);
    foreach (string argument in arguments.Split(' '))
    {
        start.ArgumentList.Add(argument);
    }

    var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + cli);
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static void Stop(Process process)
{
    if (!process.HasExited)
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit(TimeSpan.FromSeconds(10));
    }
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static string RepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Sluice.slnx")))
        {
            return directory.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}

internal sealed record Options(int Requests, int Concurrency, int Seconds)
{
    public static Options Parse(string[] args)
    {
        var options = new Options(2_000, 64, 10);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--requests" => options with { Requests = value },
                "--concurrency" => options with { Concurrency = value },
                "--seconds" => options with { Seconds = value },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return options;
    }
}
