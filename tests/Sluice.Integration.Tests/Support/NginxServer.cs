using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Sluice.Integration.Tests.Support;

/// <summary>
/// A real nginx from Debian (<c>nginx</c> and <c>libnginx-mod-http-echo</c>; <c>test.sh</c> installs them) run as a
/// child process on 127.0.0.1 and a port the OS picked, with its own prefix in a temporary directory (config, pid,
/// logs), never the system service. Disposing it stops nginx and its workers and deletes the directory.
/// </summary>
/// <remarks>Shared by the integration tests and <c>bench/efficiency</c>, which links this file.</remarks>
internal sealed class NginxServer : IAsyncDisposable
{
    public const string Executable = "/usr/sbin/nginx";
    public const string EchoModule = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

    /// <summary>How long nginx may take to listen, to reload, or to stop.</summary>
    public static readonly TimeSpan StartBound = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly Process _process;
    private readonly string _prefix;
    private readonly TimeProvider _time;

    private NginxServer(Process process, string prefix, int port, TimeProvider time)
    {
        _process = process;
        _prefix = prefix;
        _time = time;
        BaseUrl = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    /// <summary>Where nginx listens, ending in a slash.</summary>
    public Uri BaseUrl { get; }

    /// <summary>
    /// Starts nginx serving <paramref name="site"/> and returns once it accepts connections. Throws, naming the
    /// Debian packages, when nginx or the echo module is not installed, and with nginx's error log when it does not
    /// start within <see cref="StartBound"/>.
    /// </summary>
    public static async Task<NginxServer> StartAsync(NginxSite site, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(site);
        time ??= TimeProvider.System;
        if (!File.Exists(Executable) || !File.Exists(EchoModule))
        {
            throw new InvalidOperationException(
                $"nginx is not installed ({Executable} or {EchoModule} is missing): install the Debian packages nginx and "
                + "libnginx-mod-http-echo (test.sh does: apt-get install nginx libnginx-mod-http-echo)");
        }

        // A port picked by the OS and then released can be taken by someone else before nginx binds it: try again.
        for (int attempt = 1; ; attempt++)
        {
            string prefix = Directory.CreateTempSubdirectory("sluice-nginx-").FullName;
            // nginx's workers run as an unprivileged user when the tests run as root: they must reach the temp folders.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(prefix, (UnixFileMode)0b111_101_101);
            }

            Directory.CreateDirectory(Path.Combine(prefix, "logs"));
            Directory.CreateDirectory(Path.Combine(prefix, "temp"));
            int port = FreePort();
            await File.WriteAllTextAsync(Path.Combine(prefix, "nginx.conf"), site.Config(port, EchoModule), cancellationToken).ConfigureAwait(false);
            var process = Process.Start(StartInfo(prefix, "-g", "daemon off;"))
                ?? throw new InvalidOperationException($"{Executable} did not start");
            // Its errors go to the error log; whatever else it prints is drained so a full pipe never blocks it.
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new NginxServer(process, prefix, port, time);
            try
            {
                await server.WaitUntilListeningAsync(port, cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch (IOException) when (attempt < 3)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Serves <paramref name="site"/> from now on (its limit may change; the port stays): the configuration is
    /// rewritten and nginx reloaded. Requests already admitted finish on the old workers.
    /// </summary>
    public async Task ReloadAsync(NginxSite site, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(site);
        await File.WriteAllTextAsync(Path.Combine(_prefix, "nginx.conf"), site.Config(BaseUrl.Port, EchoModule), cancellationToken).ConfigureAwait(false);
        using var signal = Process.Start(StartInfo(_prefix, "-s", "reload")) ?? throw new InvalidOperationException($"{Executable} -s reload did not start");
        signal.BeginOutputReadLine();
        signal.BeginErrorReadLine();
        await signal.WaitForExitAsync(cancellationToken).WaitAsync(StartBound, _time, cancellationToken).ConfigureAwait(false);
        if (signal.ExitCode != 0)
        {
            throw new InvalidOperationException($"nginx -s reload failed ({signal.ExitCode}): {await ReadErrorLogAsync().ConfigureAwait(false)}");
        }
    }

    /// <summary>
    /// The status counts once the access log holds at least <paramref name="succeeded"/> 200 lines — the successes the
    /// clients already hold: nginx logs a request after its response has gone out, so a client can hold every answer a
    /// moment before the last line is written. Counting every line instead would stop early when 429s are logged too.
    /// Waits at most <see cref="StartBound"/>, then returns what the log holds.
    /// </summary>
    public async Task<IReadOnlyDictionary<int, int>> StatusCountsAsync(int succeeded)
    {
        long started = _time.GetTimestamp();
        var counts = StatusCounts();
        while (counts.GetValueOrDefault(200) < succeeded && _time.GetElapsedTime(started) < StartBound)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time).ConfigureAwait(false);
            counts = StatusCounts();
        }

        return counts;
    }

    /// <summary>How many requests nginx answered with each status so far, from its access log (429s included).</summary>
    public IReadOnlyDictionary<int, int> StatusCounts()
    {
        var counts = new Dictionary<int, int>();
        string log = Path.Combine(_prefix, NginxSite.AccessLog);
        if (!File.Exists(log))
        {
            return counts;
        }

        // nginx writes each line with one write(); a line being written as we read is at worst cut short at the end.
        using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        while (reader.ReadLine() is { } line)
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int status))
            {
                counts[status] = counts.GetValueOrDefault(status) + 1;
            }
        }

        return counts;
    }

    /// <summary>Stops nginx and its workers at once and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // The master and every worker (old ones after a reload too) are in its process tree.
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(StartBound, _time).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_prefix, recursive: true);
            }
            catch (IOException)
            {
                // A worker still closing its log; the directory is in the temp folder and holds nothing of value.
            }
        }
    }

    private static ProcessStartInfo StartInfo(string prefix, params string[] extra)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // -e: errors before the configuration is read go to our prefix, not /var/log/nginx.
        foreach (string argument in (string[])["-p", prefix + "/", "-c", Path.Combine(prefix, "nginx.conf"), "-e", Path.Combine(prefix, "error.log"), .. extra])
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitUntilListeningAsync(int port, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        while (true)
        {
            if (_process.HasExited)
            {
                string errors = await ReadErrorLogAsync().ConfigureAwait(false);
                // A lost race for the port is worth another try; anything else is not.
                throw errors.Contains("Address already in use", StringComparison.Ordinal)
                    ? new IOException($"port {port} was taken: {errors}")
                    : new InvalidOperationException($"nginx exited with {_process.ExitCode}: {errors}");
            }

            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (_time.GetElapsedTime(started) < StartBound)
            {
                await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException exception)
            {
                throw new TimeoutException($"nginx did not listen on port {port} within {StartBound.TotalSeconds} s: {await ReadErrorLogAsync().ConfigureAwait(false)}", exception);
            }
        }
    }

    private async Task<string> ReadErrorLogAsync()
    {
        string path = Path.Combine(_prefix, "error.log");
        return File.Exists(path) ? (await File.ReadAllTextAsync(path).ConfigureAwait(false)).Trim() : "(no error log)";
    }
}
