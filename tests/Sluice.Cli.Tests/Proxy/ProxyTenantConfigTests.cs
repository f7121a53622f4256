using Sluice.Cli.Proxy;
using Sluice.Proxy;

namespace Sluice.Cli.Tests.Proxy;

/// <summary>
/// The config file's <c>tenants</c> and <c>tenant_header</c>: read, checked (every mistake names the file, the tenant by
/// index and name, and the setting, never a key), key_env hashed at start, and put into the proxy's options.
/// </summary>
public sealed class ProxyTenantConfigTests : IDisposable
{
    private const string AppKey = "sk-sluice-app-from-env";
    private static readonly string BatchHash = ProxyTenant.HashKey("sk-sluice-batch");
    private static readonly Dictionary<string, string?> NoVariables = [];
    private static readonly Dictionary<string, string?> Environment = new()
    {
        ["OPENAI_API_KEY"] = "sk-openai-secret",
        ["APP_KEY"] = AppKey,
        ["PROXY_KEY"] = "proxy-secret",
        ["SAME_AS_PROXY"] = "proxy-secret",
    };

    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-proxy-tenants-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string json)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string TwoTenants(string upstreamKey = "\"api_key_env\": \"OPENAI_API_KEY\",") => $$"""
        {
          "upstream": "https://api.openai.com", {{upstreamKey}} "rpm": 600,
          "tenant_header": "x-sluice-tenant",
          "tenants": [
            { "name": "app", "key_env": "APP_KEY", "weight": 3, "priority": 1, "rpm": 100, "tpm": 50000, "concurrency": 4 },
            { "name": "batch", "key_sha256": "{{BatchHash.ToUpperInvariant()}}", "max_spend_per_day": 5 },
            { "name": "ops" },
          ],
        }
        """;

    private static ProxySettings Resolve(string path, Dictionary<string, string?>? environment = null, string? proxyKeyEnv = null) =>
        ProxySettingsResolver.Resolve(new ProxyArguments { Config = path, ProxyKeyEnv = proxyKeyEnv }, ProxyConfigFile.Read(path, NoVariables), name => (environment ?? Environment).GetValueOrDefault(name));

    [Fact]
    public void Read_TenantsAndHeader()
    {
        var config = ProxyConfigFile.Read(Write(TwoTenants()), NoVariables);

        Assert.Equal("x-sluice-tenant", config.TenantHeader);
        Assert.Equal(["app", "batch", "ops"], config.Tenants.Select(t => t.Name));
        var app = config.Tenants[0];
        Assert.Equal(("0", "APP_KEY", null, 3.0, 1, 100, 50_000, 4), (app.Index, app.KeyEnv, app.KeySha256, app.Weight, app.Priority, app.RequestsPerMinute, app.TokensPerMinute, app.Concurrency));
        Assert.Equal((BatchHash, 5m, 1.0, 0), (config.Tenants[1].KeySha256, config.Tenants[1].MaxSpendPerDay, config.Tenants[1].Weight, config.Tenants[1].Priority));
    }

    [Fact]
    public void Resolve_HashesKeyEnvAtStart_AndAppliesEverySettingToTheOptions()
    {
        var settings = Resolve(Write(TwoTenants()));
        var options = new SluiceProxyOptions();
        settings.ApplyTo(options);

        Assert.Equal("x-sluice-tenant", options.TenantHeader);
        var app = options.Tenants[0];
        Assert.Equal(ProxyTenant.HashKey(AppKey), app.KeySha256);
        Assert.Equal((3.0, 1, 4, 100.0, 50_000.0), (app.Weight, app.Priority, app.Limits!.MaxConcurrency, app.Limits.RequestsPerMinute, app.Limits.TokensPerMinute));
        Assert.Equal((BatchHash, 5m), (options.Tenants[1].KeySha256, options.Tenants[1].MaxSpendPerDay));
        Assert.Null(options.Tenants[1].Limits);
        Assert.Null(options.Tenants[2].KeySha256);
        // The key itself is held nowhere in the settings: only its hash.
        Assert.DoesNotContain(AppKey, settings.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(options.Tenants, t => t.ToString().Contains(AppKey, StringComparison.Ordinal) || t.ToString().Contains(t.KeySha256 ?? "-", StringComparison.Ordinal));
    }

    [Fact]
    public void Banner_ListsTenants_NeverKeysOrHashes()
    {
        string text = ProxyExecution.Tenants(Resolve(Write(TwoTenants())));

        Assert.Equal("; tenants: app (weight 3, priority 1, by key), batch (weight 1, priority 0, by key, spend cap $5.00/day), ops (weight 1, priority 0, by header), others named by the x-sluice-tenant header", text);
        Assert.DoesNotContain(AppKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain(BatchHash[..8], text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("""{ "name": "a", "wieght": 2 }""", "tenant 0 ('a'): unknown setting \"wieght\"")]
    [InlineData("""{ "weight": 2 }""", "tenant 0: setting \"name\" must be 1 to 64 printable characters; every tenant needs a name")]
    [InlineData("""{ "name": "default" }""", "tenant 0 ('default'): setting \"name\": 'default' is the name of requests of no tenant")]
    [InlineData("""{ "name": "a", "key_sha256": "abc", "key_env": "APP_KEY" }""", "tenant 0 ('a'): give key_sha256 or key_env, not both")]
    [InlineData("""{ "name": "a", "key_sha256": "sk-pasted-the-key-itself" }""", "tenant 0 ('a'): setting \"key_sha256\" must be 64 hex digits, the SHA-256 of the key ('sluice proxy hash-key' prints it), not a value of 24 characters")]
    [InlineData("""{ "name": "a", "weight": 0 }""", "tenant 0 ('a'): setting \"weight\" must be a number more than 0 and at most 1000, not '0'")]
    [InlineData("""{ "name": "a", "weight": 1001 }""", "setting \"weight\" must be a number more than 0 and at most 1000, not '1001'")]
    [InlineData("""{ "name": "a", "weight": "heavy" }""", "setting \"weight\" must be a number more than 0 and at most 1000, not 'heavy'")]
    [InlineData("""{ "name": "a", "priority": 101 }""", "tenant 0 ('a'): setting \"priority\" must be a whole number from -100 to 100, not '101'")]
    [InlineData("""{ "name": "a", "rpm": 0 }""", "tenant 0 ('a'): setting \"rpm\" must be a whole number at least 1, not '0'")]
    [InlineData("""{ "name": "a", "concurrency": "many" }""", "tenant 0 ('a'): setting \"concurrency\" must be a whole number at least 1, not 'many'")]
    [InlineData("""{ "name": "a", "max_spend_per_day": -1 }""", "tenant 0 ('a'): setting \"max_spend_per_day\" must be an amount in USD more than 0")]
    public void Mistakes_NameTheFileTheTenantAndTheSetting(string tenant, string expected)
    {
        string path = Write($$"""{ "tenants": [ {{tenant}} ] }""");

        var error = Assert.Throws<FormatException>(() => ProxyConfigFile.Read(path, NoVariables));

        Assert.StartsWith($"config file {path}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-pasted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateNames_AndDuplicateKeys_AreNamed()
    {
        string names = Write("""{ "tenants": [ { "name": "app" }, { "name": "App" } ] }""");
        string hashes = Write($$"""{ "tenants": [ { "name": "a", "key_sha256": "{{BatchHash}}" }, { "name": "b", "key_sha256": "{{BatchHash.ToUpperInvariant()}}" } ] }""");
        string variables = Write("""{ "tenants": [ { "name": "a", "key_env": "APP_KEY" }, { "name": "b", "key_env": "APP_KEY" } ] }""");

        Assert.Contains("tenant 1 ('App'): setting \"name\": the name 'App' is already tenant 0's", Assert.Throws<FormatException>(() => ProxyConfigFile.Read(names, NoVariables)).Message, StringComparison.Ordinal);
        Assert.Contains("tenant 1 ('b'): setting \"key_sha256\": the same key as tenant 0 ('a')", Assert.Throws<FormatException>(() => ProxyConfigFile.Read(hashes, NoVariables)).Message, StringComparison.Ordinal);
        Assert.Contains("tenant 1 ('b'): setting \"key_env\": APP_KEY is already tenant 0's", Assert.Throws<FormatException>(() => ProxyConfigFile.Read(variables, NoVariables)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AKeyEnvHoldingAHashedKeysKey_IsTheSameKey()
    {
        string path = Write($$"""
            { "upstream": "https://api.openai.com", "api_key_env": "OPENAI_API_KEY",
              "tenants": [ { "name": "a", "key_sha256": "{{ProxyTenant.HashKey(AppKey)}}" }, { "name": "b", "key_env": "APP_KEY" } ] }
            """);

        string message = Assert.Throws<FormatException>(() => Resolve(path)).Message;

        Assert.Equal($"config file {path}: tenant 1 ('b'): its key is also tenant 'a''s: a key must name one tenant", message);
    }

    [Fact]
    public void Resolve_KeyEnvNotSet_NamesTheVariable_NotAKey()
    {
        string path = Write(TwoTenants());

        string message = Assert.Throws<FormatException>(() => Resolve(path, new Dictionary<string, string?> { ["OPENAI_API_KEY"] = "sk-openai-secret" })).Message;

        Assert.Equal($"config file {path}: tenant 0 ('app'): setting \"key_env\": APP_KEY is not set (or is empty); set it to the tenant's key, or give key_sha256 instead", message);
    }

    [Fact]
    public void Resolve_KeyedTenants_NeedTheUpstreamsKey()
    {
        string path = Write(TwoTenants(upstreamKey: ""));

        string message = Assert.Throws<FormatException>(() => Resolve(path)).Message;

        Assert.Contains("tenant 'app' has a key, so the proxy must hold every upstream's own key, and upstream 'default' has no api_key_env", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ATenantKeyThatIsTheProxyKey_IsRefused()
    {
        string path = Write("""{ "upstream": "https://api.openai.com", "api_key_env": "OPENAI_API_KEY", "tenants": [ { "name": "a", "key_env": "SAME_AS_PROXY" } ] }""");

        string message = Assert.Throws<FormatException>(() => Resolve(path, proxyKeyEnv: "PROXY_KEY")).Message;

        Assert.Equal("tenant 'a' has the proxy key as its key: give it a key of its own", message);
        Assert.DoesNotContain("proxy-secret", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("x-api-key")]
    [InlineData("Connection")]
    [InlineData("proxy-tenant")]
    [InlineData("x sluice tenant")]
    public void Resolve_TenantHeader_MustBeAPlainUnreservedName(string header)
    {
        string path = Write($$"""{ "upstream": "https://api.openai.com", "tenant_header": "{{header}}" }""");

        Assert.StartsWith("tenant_header must be a plain header name", Assert.Throws<FormatException>(() => Resolve(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_HeaderTenantsOnly_NeedNoUpstreamKey()
    {
        var settings = Resolve(Write("""{ "upstream": "https://api.openai.com", "tenant_header": "x-team", "tenants": [ { "name": "ops", "weight": 2 } ] }"""));

        Assert.Equal(("x-team", "ops", 2.0), (settings.TenantHeader, settings.Tenants.Single().Name, settings.Tenants.Single().Weight));
        Assert.Equal("; tenants: ops (weight 2, priority 0, by header), others named by the x-team header", ProxyExecution.Tenants(settings));
    }

    [Fact]
    public void Tenants_FromEnvironmentVariables_AreNamedByTheVariable()
    {
        var error = Assert.Throws<FormatException>(() => ProxyConfigFile.Read(null, new Dictionary<string, string?>
        {
            ["SLUICE_PROXY_TENANTS__0__NAME"] = "app",
            ["SLUICE_PROXY_TENANTS__0__WEIGHT"] = "-2",
        }));

        Assert.StartsWith("environment variable SLUICE_PROXY_TENANTS__0__WEIGHT: tenant 0 ('app'): setting \"weight\"", error.Message, StringComparison.Ordinal);
    }
}
