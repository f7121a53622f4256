using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sluice.Tests.Support;

/// <summary>
/// A real Redis from Debian (<c>redis-server</c>; <c>test.sh</c> installs it) run as a child process on 127.0.0.1 and
/// a port the OS picked, keeping nothing on disk (no RDB snapshot, no append-only file) and no state between starts.
/// <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> take Redis away and bring it back on the same port, for
/// the tests of what Sluice does while Redis is down. Disposing it stops Redis and deletes its directory.
/// </summary>
/// <remarks>Linked into every test project and benchmark that needs Redis (<c>tests/Shared</c>).</remarks>
internal sealed class RedisServer : IAsyncDisposable
{
    public const string Executable = "/usr/bin/redis-server";

    /// <summary>How long Redis may take to listen or to stop.</summary>
    public static readonly TimeSpan StartBound = TimeSpan.FromSeconds(15);

    private readonly string _directory;
    private readonly TimeProvider _time;
    private Process? _process;

    private RedisServer(string directory, int port, TimeProvider time)
    {
        _directory = directory;
        _time = time;
        Port = port;
    }

    /// <summary>The port Redis listens on, on 127.0.0.1; the same after <see cref="StartAgainAsync"/>.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for this server, such as <c>127.0.0.1:6380</c>.</summary>
    public string Configuration => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether Redis is running now (between <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> it is not).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// Starts Redis and returns once it answers <c>PING</c>. Throws, naming the Debian package, when Redis is not
    /// installed, and with Redis's own output when it does not start within <see cref="StartBound"/>.
    /// </summary>
    public static async Task<RedisServer> StartAsync(TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException(
                $"Redis is not installed ({Executable} is missing): install the Debian package redis-server "
                + "(test.sh does: apt-get install redis-server)");
        }

        // A port picked by the OS and then released can be taken by someone else before Redis binds it: try again.
        for (int attempt = 1; ; attempt++)
        {
            var server = new RedisServer(Directory.CreateTempSubdirectory("sluice-redis-").FullName, FreePort(), time);
            try
            {
                await server.StartAgainAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>Starts Redis again on the same port after <see cref="StopAsync"/>, empty (nothing was persisted).</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("Redis is already running.");
        }

        _process?.Dispose();
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (string argument in (string[])
                 [
                     "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--protected-mode", "yes",
                     "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no", "--loglevel", "warning",
                 ])
        {
            info.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{Executable} did not start");
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        long started = _time.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                // Most often the port was taken between picking it and binding it.
                throw new IOException($"redis-server exited with {process.ExitCode}: {Read(output)}");
            }

            if (await PingsAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (_time.GetElapsedTime(started) > StartBound)
            {
                throw new InvalidOperationException($"redis-server did not answer PING on port {Port} within {StartBound.TotalSeconds} s: {Read(output)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Kills Redis at once (as a crash would) and waits until it has exited; every key is lost.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(StartBound, _time).ConfigureAwait(false);
    }

    /// <summary>Stops Redis and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }
        finally
        {
            _process?.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // In the temp folder and holding nothing of value.
            }
        }
    }

    private async Task<bool> PingsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            byte[] buffer = new byte[16];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            int read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 8_000)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string Read(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
