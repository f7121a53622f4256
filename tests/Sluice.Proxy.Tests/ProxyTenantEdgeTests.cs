using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Sluice.Gate;

namespace Sluice.Proxy.Tests;

/// <summary>
/// Tenants at the proxy's edge, against a scripted upstream on a loopback port that records every request's headers:
/// a tenant's key never reaches the upstream (the proxy's key does), an unknown key is a 401 that does not repeat it,
/// header tenants, a tenant's own rpm and spend cap, and the status — its shape, who may read it, and no key in it.
/// </summary>
public sealed class ProxyTenantEdgeTests
{
    private const string AppKey = "sk-sluice-app-key-4f1c2a9e";
    private const string BatchKey = "sk-sluice-batch-key-77d0b3e5";
    private const string UpstreamKey = "sk-upstream-held-by-proxy";
    private const string Header = "x-sluice-tenant";
    private const string Chat = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":50}";

    private static Task<EdgeHost> StartAsync(Action<SluiceProxyOptions>? configure = null, string? apiKey = UpstreamKey, Sluice.Providers.ProviderKind provider = Sluice.Providers.ProviderKind.OpenAI) =>
        EdgeHost.StartAsync(EdgeHost.Ok, options =>
        {
            options.Tenants.Add(new ProxyTenant { Name = "app", KeySha256 = ProxyTenant.HashKey(AppKey), Weight = 3, Priority = 1 });
            options.Tenants.Add(new ProxyTenant { Name = "batch", KeySha256 = ProxyTenant.HashKey(BatchKey) });
            options.TenantHeader = Header;
            configure?.Invoke(options);
        }, apiKey: apiKey, provider: provider);

    private static string Bearer(string key) => $"Authorization: Bearer {key}\r\n";

    [Fact]
    public async Task TenantKey_IsNeverForwarded_TheUpstreamGetsTheProxysKey_AndNoTenantHeader()
    {
        await using var host = await StartAsync();

        var bearer = await host.PostAsync("/v1/chat/completions", Chat, Bearer(AppKey) + $"{Header}: batch\r\n");
        var apiKeyHeader = await host.PostAsync("/v1/chat/completions", Chat, $"x-api-key: {BatchKey}\r\napi-key: {BatchKey}\r\n");

        Assert.Equal((200, 200), (bearer.Status, apiKeyHeader.Status));
        Assert.Equal(2, host.Arrivals.Count);
        foreach (var arrival in host.Arrivals)
        {
            Assert.Equal($"Bearer {UpstreamKey}", arrival.Headers["Authorization"]);
            Assert.DoesNotContain(arrival.Headers, h => h.Value.Contains("sk-sluice", StringComparison.Ordinal));
            Assert.False(arrival.Headers.ContainsKey(Header));
        }

        var tenants = host.Proxy.Forwarder.Tenants.All.ToDictionary(t => t.Name);
        Assert.Equal((1, 1), (tenants["app"].Requests, tenants["app"].Answered));
        Assert.Equal((1, 1), (tenants["batch"].Requests, tenants["batch"].Answered));
    }

    [Theory]
    [InlineData(Sluice.Providers.ProviderKind.OpenAI, "invalid_api_key")]
    [InlineData(Sluice.Providers.ProviderKind.Anthropic, "authentication_error")]
    public async Task UnknownKey_Is401_InTheUpstreamsShape_NeverEchoed_NeverSent(Sluice.Providers.ProviderKind provider, string expected)
    {
        const string guessed = "sk-sluice-guessed-key-0000";
        await using var host = await StartAsync(provider: provider);

        var unknown = await host.PostAsync("/v1/chat/completions", Chat, Bearer(guessed) + $"{Header}: app\r\n");
        var none = await host.PostAsync("/v1/chat/completions", Chat);

        Assert.Equal((401, 401), (unknown.Status, none.Status));
        Assert.Equal("tenant_key", unknown.Headers["x-sluice-error"]);
        Assert.Contains(expected, unknown.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(guessed, unknown.HeaderText + unknown.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-", unknown.Body, StringComparison.Ordinal);
        Assert.Empty(host.Arrivals);
        Assert.All(host.Proxy.Forwarder.Tenants.All, t => Assert.Equal(0, t.Requests));
        Assert.DoesNotContain(host.Problems, p => p.Text.Contains(guessed, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Status_NeedsATenantKey_HasTheTenants_AndNoKeyOrHash()
    {
        var measured = new ConcurrentQueue<(string Instrument, string Tags)>();
        using var listener = ListenToTenantCounters(measured);
        await using var host = await StartAsync();
        await host.PostAsync("/v1/chat/completions", Chat, Bearer(AppKey));
        await host.PostAsync("/v1/chat/completions", Chat, Bearer(AppKey));
        await host.PostAsync("/v1/chat/completions", Chat, Bearer(BatchKey));

        var refused = await host.SendAsync($"GET /sluice/status HTTP/1.1\r\nHost: x\r\n");
        var status = await StatusAsync(host, BatchKey);

        Assert.Equal((401, "status_key"), (refused.Status, refused.Headers["x-sluice-error"]));
        Assert.Equal(200, status.Status);
        using var json = JsonDocument.Parse(status.Body);
        var tenants = json.RootElement.GetProperty("tenants").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal(["app", "batch"], tenants.Keys.Order());
        Assert.Equal(
            ["answered", "name", "priority", "refused", "requests", "source", "spent_today", "weight"],
            tenants["app"].EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal((3.0, 1, "key", 2, 2, 0), (tenants["app"].GetProperty("weight").GetDouble(), tenants["app"].GetProperty("priority").GetInt32(), tenants["app"].GetProperty("source").GetString(),
            tenants["app"].GetProperty("requests").GetInt32(), tenants["app"].GetProperty("answered").GetInt32(), tenants["app"].GetProperty("refused").GetInt32()));
        Assert.True(tenants["app"].GetProperty("spent_today").GetDecimal() > 0, "a priced model's answer is counted in the tenant's spend");

        var partition = json.RootElement.GetProperty("upstreams")[0].GetProperty("partitions").EnumerateArray().Single();
        var byName = partition.GetProperty("tenants").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal(["app", "batch"], byName.Keys.Order());
        Assert.Equal(
            ["admitted", "in_flight", "name", "share_due", "share_received", "waiting", "weight"],
            byName["app"].EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal((2, 3.0), (byName["app"].GetProperty("admitted").GetInt32(), byName["app"].GetProperty("weight").GetDouble()));
        Assert.Equal(JsonValueKind.Null, byName["batch"].GetProperty("share_due").ValueKind);

        foreach (string secret in new[] { AppKey, BatchKey, UpstreamKey, ProxyTenant.HashKey(AppKey), ProxyTenant.HashKey(BatchKey), ProxyTenant.HashKey(AppKey)[..16] })
        {
            Assert.DoesNotContain(secret, status.Body, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(measured, m => m.Tags.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }

        Assert.Contains(measured, m => m.Instrument == "sluice.proxy.tenant.requests" && m.Tags.Contains("tenant=app", StringComparison.Ordinal));
        Assert.Contains(measured, m => m.Instrument == "sluice.proxy.tenant.answered" && m.Tags.Contains("tenant=batch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Status_WithAProxyKey_NeedsThatKey_NotATenants()
    {
        await using var host = await StartAsync(options => options.ProxyKey = "proxy-admin-key");

        var tenant = await host.SendAsync($"GET /sluice/status HTTP/1.1\r\nHost: x\r\n{Bearer(AppKey)}");
        var admin = await StatusAsync(host, "proxy-admin-key");
        var forwarded = await host.PostAsync("/v1/chat/completions", Chat, Bearer("proxy-admin-key") + $"{Header}: nightly\r\n");

        Assert.Equal((401, 200, 200), (tenant.Status, admin.Status, forwarded.Status));
        Assert.Equal($"Bearer {UpstreamKey}", Assert.Single(host.Arrivals).Headers["Authorization"]);
        Assert.Contains(host.Proxy.Forwarder.Tenants.All, t => t is { Name: "nightly", Source: "header", Answered: 1 });
    }

    [Fact]
    public async Task HeaderTenants_WithoutKeys_AreCountedApart_AndTheHeaderIsNotForwarded()
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, options =>
        {
            options.TenantHeader = Header;
            options.Tenants.Add(new ProxyTenant { Name = "alice", Weight = 2 });
        });

        var alice = await host.PostAsync("/v1/chat/completions", Chat, $"{Header}: Alice\r\nAuthorization: Bearer client-own-key\r\n");
        var bob = await host.PostAsync("/v1/chat/completions", Chat, $"{Header}: bob\r\n");
        var bad = await host.PostAsync("/v1/chat/completions", Chat, $"{Header}: {new string('x', 65)}\r\n");
        var anonymous = await host.PostAsync("/v1/chat/completions", Chat);
        var status = await StatusAsync(host, null);

        Assert.Equal((200, 200, 400, 200, 200), (alice.Status, bob.Status, bad.Status, anonymous.Status, status.Status));
        Assert.Equal("invalid_tenant", bad.Headers["x-sluice-error"]);
        Assert.Equal(3, host.Arrivals.Count);
        Assert.All(host.Arrivals, a => Assert.False(a.Headers.ContainsKey(Header)));
        // Clients' own keys pass through when the proxy holds none: header tenants do not change that.
        Assert.Equal("Bearer client-own-key", host.Arrivals.First().Headers["Authorization"]);
        using var json = JsonDocument.Parse(status.Body);
        var tenants = json.RootElement.GetProperty("tenants").EnumerateArray()
            .Select(t => (t.GetProperty("name").GetString(), t.GetProperty("weight").GetDouble(), t.GetProperty("source").GetString(), t.GetProperty("answered").GetInt32()))
            .ToList();
        Assert.Equal([("alice", 2.0, "header", 1), ("bob", 1.0, "header", 1)], tenants);
        var partitionTenants = json.RootElement.GetProperty("upstreams")[0].GetProperty("partitions").EnumerateArray()
            .SelectMany(p => p.GetProperty("tenants").EnumerateArray()).Select(t => t.GetProperty("name").GetString()).Order();
        Assert.Equal(["alice", "bob", "default"], partitionTenants);
    }

    [Fact]
    public async Task TenantsOwnRpm_HoldsBackThatTenantOnly()
    {
        await using var host = await StartAsync(options =>
        {
            options.Tenants[1] = new ProxyTenant { Name = "batch", KeySha256 = ProxyTenant.HashKey(BatchKey), Limits = new TenantLimits { RequestsPerMinute = 1 } };
            // The second batch request would wait a minute for the tenant's budget: a second is enough to see it held.
            options.MaxWait = TimeSpan.FromSeconds(1);
        });

        var first = await host.PostAsync("/v1/chat/completions", Chat, Bearer(BatchKey));
        var second = await host.PostAsync("/v1/chat/completions", Chat, Bearer(BatchKey));
        var app = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => host.PostAsync("/v1/chat/completions", Chat, Bearer(AppKey))));

        Assert.Equal(200, first.Status);
        Assert.Equal((429, "max_wait"), (second.Status, second.Headers["x-sluice-error"]));
        Assert.All(app, a => Assert.Equal(200, a.Status));
        Assert.Equal(4, host.Arrivals.Count);
        var batch = host.Proxy.Forwarder.Tenants.All.Single(t => t.Name == "batch");
        Assert.Equal((2, 1, 1), (batch.Requests, batch.Answered, batch.Refused));
    }

    [Fact]
    public async Task TenantsSpendCap_Is402_ForThatTenantOnly_NeverSent()
    {
        await using var host = await StartAsync(options =>
            options.Tenants[1] = new ProxyTenant { Name = "batch", KeySha256 = ProxyTenant.HashKey(BatchKey), MaxSpendPerDay = 0.000001m });

        var capped = await host.PostAsync("/v1/chat/completions", Chat, Bearer(BatchKey));
        var other = await host.PostAsync("/v1/chat/completions", Chat, Bearer(AppKey));

        Assert.Equal((402, "spend_cap_reached"), (capped.Status, capped.Headers["x-sluice-error"]));
        using (var error = JsonDocument.Parse(capped.Body))
        {
            Assert.StartsWith("sluice proxy: your tenant's daily spend cap ($0.000001 per UTC day", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(BatchKey, capped.Body, StringComparison.Ordinal);
        Assert.Equal(200, other.Status);
        Assert.Single(host.Arrivals);
        var batch = host.Proxy.Forwarder.Tenants.All.Single(t => t.Name == "batch");
        Assert.Equal((1, 0, 1, 0m), (batch.Requests, batch.Answered, batch.Refused, batch.SpentToday));
    }

    [Fact]
    public async Task HigherPriorityTenant_GoesBeforeWaitingLowerOnes()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new ConcurrentQueue<string>();
        await using var host = await EdgeHost.StartAsync(
            async http =>
            {
                using var reader = new StreamReader(http.Request.Body);
                string body = await reader.ReadToEndAsync();
                string name = JsonDocument.Parse(body).RootElement.GetProperty("messages")[0].GetProperty("content").GetString()!;
                order.Enqueue(name);
                if (name == "hold")
                {
                    await release.Task.WaitAsync(EdgeHost.Bound);
                }

                await EdgeHost.Ok(http);
            },
            options =>
            {
                // One request with the upstream at a time: the others wait at the gate, where priority orders them.
                options.Upstreams[0] = options.Upstreams[0] with { Concurrency = 1 };
                options.Tenants.Add(new ProxyTenant { Name = "app", KeySha256 = ProxyTenant.HashKey(AppKey), Priority = 1 });
                options.Tenants.Add(new ProxyTenant { Name = "batch", KeySha256 = ProxyTenant.HashKey(BatchKey) });
            },
            apiKey: UpstreamKey);

        // The held request is app's own: by fair share alone, batch (which has had nothing) would go next.
        var held = host.PostAsync("/v1/chat/completions", Message("hold"), Bearer(AppKey));
        await WaitUntilAsync(() => order.Count == 1);
        var batch = Enumerable.Range(0, 3).Select(i => host.PostAsync("/v1/chat/completions", Message($"batch-{i}"), Bearer(BatchKey))).ToList();
        await WaitUntilAsync(() => Waiting(host) == 3);
        var app = host.PostAsync("/v1/chat/completions", Message("app"), Bearer(AppKey));
        await WaitUntilAsync(() => Waiting(host) == 4);
        release.SetResult();
        var answers = await Task.WhenAll([held, .. batch, app]).WaitAsync(EdgeHost.Bound);

        Assert.All(answers, a => Assert.Equal(200, a.Status));
        Assert.Equal(["hold", "app"], order.Take(2));
        Assert.Equal(5, order.Count);
    }

    [Fact]
    public async Task AnotherTenantsBacklog_DoesNotTurnAnInteractiveTenantAway()
    {
        await using var host = await StartAsync(options =>
        {
            // One request every 10 s; a request that would certainly wait over a minute is told so at once (max_wait).
            options.Upstreams[0] = options.Upstreams[0] with { RequestsPerMinute = 6 };
            options.MaxWait = TimeSpan.FromMinutes(1);
        });

        // Batch fills the queue with a minute or more of backlog: 6 waiting or more (requests arriving together may all
        // be let in before the queue shows them), so one more request counted behind them would wait over a minute.
        var batch = Enumerable.Range(0, 10).Select(i => host.PostAsync("/v1/chat/completions", Message($"batch-{i}"), Bearer(BatchKey))).ToList();
        await WaitUntilAsync(() => Waiting(host) >= 6);
        var app = await host.PostAsync("/v1/chat/completions", Message("app"), Bearer(AppKey));

        // App waited for the next request of the budget (priority 1, and weight 3), not behind batch's minute of backlog.
        Assert.Equal(200, app.Status);
        // The rest of batch's backlog is let go (503 draining, or 429 max_wait for those refused at once).
        host.Proxy.Drain();
        var answers = await Task.WhenAll(batch).WaitAsync(EdgeHost.Bound);
        Assert.All(answers, a => Assert.Contains(a.Status, new[] { 200, 429, 503 }));
    }

    private static string Message(string content) =>
        JsonSerializer.Serialize(new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content } }, max_tokens = 5 });

    private static int Waiting(EdgeHost host) => host.Proxy.GetEngine("up").Gate.Partitions.Sum(p => p.GetSnapshot().Queued);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(EdgeHost.Bound);
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, timeout.Token);
        }
    }

    /// <summary>GET /sluice/status with <paramref name="key"/> as a Bearer token (none when null): its status and body.</summary>
    private static async Task<(int Status, string Body)> StatusAsync(EdgeHost host, string? key)
    {
        using var client = new HttpClient { BaseAddress = host.ProxyUrl, Timeout = EdgeHost.Bound };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sluice/status");
        if (key is not null)
        {
            request.Headers.Authorization = new("Bearer", key);
        }

        using var response = await client.SendAsync(request).WaitAsync(EdgeHost.Bound);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(EdgeHost.Bound));
    }

    /// <summary>Records every measurement of the proxy's tenant counters with its tags, as an exporter would see them.</summary>
    private static MeterListener ListenToTenantCounters(ConcurrentQueue<(string Instrument, string Tags)> measured)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == SluiceProxy.MeterName && instrument.Name.StartsWith("sluice.proxy.tenant.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
            measured.Enqueue((instrument.Name, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")))));
        listener.Start();
        return listener;
    }
}
