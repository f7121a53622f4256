using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Sluice.Efficiency.Runners;

namespace Sluice.FairBench;

/// <summary>
/// The real <c>sluice proxy</c> binary as a child process on 127.0.0.1 and a free port, configured by a temporary
/// config file: one upstream (the limiter under test) whose key the proxy holds, its request budget told, and — when
/// the run has tenants — a <c>"tenants"</c> list: the first tenant's key read from an environment variable
/// (<c>key_env</c>), every other tenant's stored as the hash <c>sluice proxy hash-key</c> prints (<c>key_sha256</c>).
/// Disposing it kills the process this bench started (by its handle, never by name) and deletes the directory.
/// </summary>
internal sealed class ProxyProcess : IAsyncDisposable
{
    private const string UpstreamKeyVariable = "FAIRBENCH_UPSTREAM_KEY";
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly string _directory;
    private readonly Queue<string> _lastLines = new();

    private ProxyProcess(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        BaseUrl = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    /// <summary>Where the proxy listens, ending in a slash.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The config file the run used, as written (keys are not in it: one is in the environment, the other hashed).</summary>
    public string ConfigText { get; private set; } = "";

    public static async Task<ProxyProcess> StartAsync(
        string sluice,
        Uri upstream,
        int requestsPerMinute,
        IReadOnlyList<TenantSpec> tenants,
        int maxQueue,
        CancellationToken cancellationToken,
        int tokensPerMinute = 0)
    {
        string directory = Directory.CreateTempSubdirectory("sluice-fairbench-").FullName;
        var environment = new Dictionary<string, string> { [UpstreamKeyVariable] = "sk-fairbench-upstream" };
        var config = new JsonObject
        {
            ["upstream"] = upstream.ToString(),
            ["api_key_env"] = UpstreamKeyVariable,
            [tokensPerMinute > 0 ? "tpm" : "rpm"] = tokensPerMinute > 0 ? tokensPerMinute : requestsPerMinute,
            // Deep backlogs: the early max_wait refusal (the queue ahead at the budget's rate) must not cut the batch.
            ["max_wait"] = "30m",
            ["max_queue"] = maxQueue,
        };
        if (tenants.Count > 0)
        {
            var list = new JsonArray();
            for (int i = 0; i < tenants.Count; i++)
            {
                var tenant = tenants[i];
                var entry = new JsonObject { ["name"] = tenant.Name, ["weight"] = tenant.Weight, ["priority"] = tenant.Priority };
                if (i == 0)
                {
                    string variable = $"FAIRBENCH_KEY_{tenant.Name.ToUpperInvariant()}";
                    environment[variable] = tenant.Key;
                    entry["key_env"] = variable;
                }
                else
                {
                    entry["key_sha256"] = await HashKeyAsync(sluice, tenant.Key, cancellationToken);
                }

                list.Add(entry);
            }

            config["tenants"] = list;
        }

        string configFile = Path.Combine(directory, "sluice.json");
        string configText = config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        await File.WriteAllTextAsync(configFile, configText, cancellationToken);

        int port = FreePort();
        var info = new ProcessStartInfo(sluice)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (string argument in (string[])["proxy", "--config", configFile, "--listen", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"{sluice} proxy did not start");
        var proxy = new ProxyProcess(process, directory, port) { ConfigText = configText };
        process.OutputDataReceived += (_, e) => proxy.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await proxy.WaitUntilServingAsync(cancellationToken);
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>The last lines the proxy printed (its banner, warnings, errors), for a run that went wrong.</summary>
    public string Tail()
    {
        lock (_lastLines)
        {
            return string.Join('\n', _lastLines);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(StartBound, TimeProvider.System);
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary><c>sluice proxy hash-key</c>: the SHA-256 hex of a key read from stdin, as a user stores it in the config.</summary>
    private static async Task<string> HashKeyAsync(string sluice, string key, CancellationToken cancellationToken)
    {
        var outcome = await ChildProcess.RunAsync(sluice, ["proxy", "hash-key"], key + "\n", workingDirectory: null, environment: null, cancellationToken);
        string hash = outcome.Output.Trim();
        if (outcome.ExitCode != 0 || hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower))
        {
            throw new InvalidOperationException($"sluice proxy hash-key failed (exit {outcome.ExitCode}): {outcome.Output}{outcome.Error}");
        }

        return hash;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            if (_lastLines.Count > 40)
            {
                _lastLines.Dequeue();
            }
        }
    }

    private async Task WaitUntilServingAsync(CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"sluice proxy exited with {_process.ExitCode}:\n{Tail()}\nconfig:\n{ConfigText}");
            }

            try
            {
                // Any answer means it listens (the status may want a key).
                using var response = await http.GetAsync(new Uri(BaseUrl, "healthz"), cancellationToken);
                return;
            }
            catch (HttpRequestException) when (TimeProvider.System.GetElapsedTime(started) < StartBound)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, cancellationToken);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested && TimeProvider.System.GetElapsedTime(started) < StartBound)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, cancellationToken);
            }
        }
    }
}
