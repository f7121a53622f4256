using System.Net;
using Microsoft.Extensions.Options;

namespace Sluice.Mock.Tests;

public class MockOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValid() => new MockOptions().Validate();

    [Fact]
    public void Validate_ListsEveryProblemInOneException()
    {
        var options = new MockOptions
        {
            ListenAddress = IPAddress.Parse("10.0.0.1"),
            Port = 70000,
            Limits = new MockLimits { RequestsPerMinute = 0, Burst = TimeSpan.Zero },
            Faults = new MockFaults { HangRate = 0.8, StreamCutRate = 0.5, QuotaExhaustedAfterRequests = -1 },
            Latency = TimeSpan.FromSeconds(-1),
            ReplyTokens = 0,
            AuditWindow = TimeSpan.Zero,
        };

        var error = Assert.Throws<OptionsValidationException>(options.Validate);

        Assert.Equal(9, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("AllowNonLoopback", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Limits.RequestsPerMinute", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("add up to at most 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NonLoopbackAllowedExplicitly_IsValid() =>
        new MockOptions { ListenAddress = IPAddress.Any, AllowNonLoopback = true }.Validate();
}
