using System.Text;
using Sluice.Caching;

namespace Sluice.Cache.Tests.Caching;

/// <summary>Only a request that states temperature 0 and one choice is deterministic.</summary>
public sealed class CachePolicyTests
{
    [Theory]
    [InlineData("""{"model":"m","temperature":0}""", true)]
    [InlineData("""{"model":"m","temperature":0.0,"n":1}""", true)]
    [InlineData("""{"model":"m","temperature":0,"n":2}""", false)]
    [InlineData("""{"model":"m","temperature":0.2}""", false)]
    [InlineData("""{"model":"m"}""", false)]
    [InlineData("""{"model":"m","temperature":"0"}""", false)]
    [InlineData("""{"model":"m","temperature":null}""", false)]
    [InlineData("""{"model":"m","temperature":0,"n":"1"}""", false)]
    [InlineData("""[{"temperature":0}]""", false)]
    [InlineData("not json", false)]
    [InlineData("", false)]
    public void IsDeterministic_OnlyForTemperatureZeroAndOneChoice(string body, bool expected)
    {
        Assert.Equal(expected, CachePolicy.IsDeterministic(Encoding.UTF8.GetBytes(body)));
    }
}
