using System.Net;
using Microsoft.Extensions.Time.Testing;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Tests.Dispatch.Support;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Engine;

/// <summary>A tenant and priority set per request reach the gate.</summary>
public sealed class HandlerTenantTests
{
    [Fact]
    public async Task SendAsync_TenantInRequestOptions_WaitsAtTheGateAsThatTenant()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, new FakeTimeProvider());
        using var client = new HttpClient(new SluiceHandler(engine) { InnerHandler = transport });
        using var request = Post();
        request.Options.Set(SluiceRequestOptions.Tenant, new GateTenant("team-a") { Weight = 2 });
        request.Options.Set(SluiceRequestOptions.Priority, 3);

        using var answer = await client.SendAsync(request).DefaultTimeout();
        using var plain = await client.SendAsync(Post()).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var tenants = Assert.Single(engine.Gate.Partitions).GetSnapshot().Tenants;
        Assert.Equal([("default", 1.0, 1L), ("team-a", 2.0, 1L)], tenants.Select(t => (t.Name, t.Weight, t.Admitted)));
    }

    [Fact]
    public async Task SendAsync_TenantInSendOptions_IsTheJobsTenant()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, new FakeTimeProvider());
        var request = await engine.CaptureAsync(Post()).AsTask().DefaultTimeout();

        var response = await engine.SendAsync(request, new SluiceSendOptions { Tenant = new GateTenant("runner"), Priority = 1 }).DefaultTimeout();
        response.Message?.Dispose();

        var tenant = Assert.Single(Assert.Single(engine.Gate.Partitions).GetSnapshot().Tenants);
        Assert.Equal(("runner", 1L), (tenant.Name, tenant.Admitted));
    }
}
