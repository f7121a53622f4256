using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Cli.Proxy;
using Sluice.Proxy;

namespace Sluice.Cli.Tests.Proxy;

/// <summary>Issue 14, finding 3: <c>--max-body-mb</c> and <c>--max-buffered-mb</c> stay in a range no size can overflow.</summary>
public sealed class ProxyBodyLimitOptionsTests
{
    private static ProxySettings Resolve(ProxyArguments arguments, ProxyConfigFile? config = null) =>
        ProxySettingsResolver.Resolve(arguments with { Upstream = "http://127.0.0.1:9" }, config ?? new ProxyConfigFile(), _ => null);

    [Theory]
    [InlineData(2048)]
    [InlineData(1025)]
    public void MaxBodyBeyondAGigabyte_IsRefused(int megabytes) =>
        Assert.Contains("--max-body-mb must be at most 1024", Assert.Throws<FormatException>(() => Resolve(new ProxyArguments { MaxBodyMegabytes = megabytes })).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData(null, null, 32L, 256L)]
    [InlineData(1024, null, 1024L, 2048L)]
    [InlineData(null, 64, 32L, 64L)]
    [InlineData(1024, 4096, 1024L, 4096L)]
    public void Limits_ResolveToOptionsTheProxyAccepts(int? body, int? buffered, long bodyMegabytes, long bufferedMegabytes)
    {
        var settings = Resolve(new ProxyArguments { MaxBodyMegabytes = body, MaxBufferedMegabytes = buffered });
        var options = new SluiceProxyOptions();
        settings.ApplyTo(options);

        Assert.Equal(bodyMegabytes * 1024 * 1024, options.MaxRequestBodyBytes);
        Assert.Equal(bufferedMegabytes * 1024 * 1024, options.MaxBufferedRequestBytes);
        // The library accepts them: constructing the proxy validates its options.
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var proxy = new SluiceProxy(Microsoft.Extensions.Options.Options.Create(options), services.GetRequiredService<IMeterFactory>());
    }

    [Fact]
    public void MaxBufferedBelowTwiceTheLargestBody_IsRefused() =>
        Assert.Contains("--max-buffered-mb must be at least twice --max-body-mb (128)", Assert.Throws<FormatException>(() => Resolve(new ProxyArguments { MaxBodyMegabytes = 64, MaxBufferedMegabytes = 100 })).Message, StringComparison.Ordinal);

    [Fact]
    public void MaxBuffered_ComesFromTheConfigFile_Too() =>
        Assert.Equal(512L * 1024 * 1024, Resolve(new ProxyArguments(), new ProxyConfigFile { MaxBufferedMegabytes = 512 }).MaxBufferedRequestBytes);
}
