using System.Globalization;
using System.Text;

namespace Sluice.Integration.Tests.Support;

/// <summary>
/// An nginx <c>limit_req</c> zone (a leaky bucket: <paramref name="RequestsPerSecond"/>, <paramref name="Burst"/>
/// requests of excess, queued and released at the rate unless <paramref name="NoDelay"/>).
/// </summary>
internal sealed record NginxLimit(int RequestsPerSecond, int Burst, bool NoDelay)
{
    /// <summary>How the limit reads in nginx's own words, e.g. <c>40r/s burst=5 nodelay</c>.</summary>
    /// <remarks>nginx refuses <c>burst=0</c>: no burst is written as none.</remarks>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{RequestsPerSecond}r/s{(Burst > 0 ? $" burst={Burst}" : "")}{(NoDelay ? " nodelay" : "")}");
}

/// <summary>
/// What nginx serves: every path behind one <see cref="Limit"/>, answered like OpenAI's chat completions after
/// <see cref="Latency"/> by the echo module, or — when <see cref="Upstream"/> is set — proxied to that server.
/// Refusals are 429 with an OpenAI-shaped JSON error and nothing else: no <c>Retry-After</c>, no rate-limit headers,
/// as a gateway in front of a self-hosted model sends them.
/// </summary>
/// <param name="Limit">The <c>limit_req</c> zone every request passes.</param>
/// <param name="Latency">How long the echo module waits before answering.</param>
/// <param name="Upstream">A server to proxy to instead of the echo module, or null.</param>
/// <param name="BodyEndsWithNewline">
/// Whether the echo module ends the JSON body with a newline, as many servers do (it is still one JSON value);
/// a results file that copies it raw is no longer one line per result.
/// </param>
internal sealed record NginxSite(NginxLimit Limit, TimeSpan Latency, Uri? Upstream = null, bool BodyEndsWithNewline = true)
{
    /// <summary>The body of every admitted answer: a chat completion with usage, on one line.</summary>
    public const string ChatCompletion =
        """{"id":"chatcmpl-nginx","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"A summary."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}""";

    /// <summary>The body of every refusal.</summary>
    public const string RateLimitError =
        """{"error":{"type":"rate_limit_exceeded","code":"rate_limit_exceeded","message":"Too many requests: limit_req"}}""";

    /// <summary>The access log's format: one status code per line.</summary>
    public const string AccessLog = "logs/access.log";

    /// <summary>nginx's configuration for this site, listening on <paramref name="port"/> of 127.0.0.1.</summary>
    public string Config(int port, string echoModule)
    {
        var upstream = Upstream is { } url
            ? $$"""
                        proxy_pass {{url.GetLeftPart(UriPartial.Authority)}};
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_read_timeout 300s;
            """
            : $$"""
                        default_type application/json;
                        echo_sleep {{Latency.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}};
                        echo {{(BodyEndsWithNewline ? "" : "-n ")}}'{{ChatCompletion}}';
            """;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $$"""
            load_module {{echoModule}};
            pid nginx.pid;
            error_log error.log warn;
            worker_processes 1;
            worker_rlimit_nofile 16384;
            events { worker_connections 8192; }
            http {
                client_body_temp_path temp/body;
                proxy_temp_path temp/proxy;
                fastcgi_temp_path temp/fastcgi;
                uwsgi_temp_path temp/uwsgi;
                scgi_temp_path temp/scgi;
                client_body_buffer_size 1m;
                keepalive_requests 100000;
                keepalive_timeout 300s;
                log_format status_only '$status';
                # One bucket for every client: they all come from 127.0.0.1.
                limit_req_zone $binary_remote_addr zone=api:1m rate={{Limit.RequestsPerSecond}}r/s;
                server {
                    listen 127.0.0.1:{{port}};
                    access_log {{AccessLog}} status_only;
                    limit_req_status 429;
                    # Refusals are the point, not errors worth a line each.
                    limit_req_log_level info;
                    error_page 429 = @throttled;
                    location / {
                        limit_req zone=api{{(Limit.Burst > 0 ? $" burst={Limit.Burst}" : "")}}{{(Limit.NoDelay ? " nodelay" : "")}};
            {{upstream}}
                    }
                    location @throttled {
                        default_type application/json;
                        return 429 '{{RateLimitError}}';
                    }
                }
            }

            """);
        return text.ToString();
    }
}
