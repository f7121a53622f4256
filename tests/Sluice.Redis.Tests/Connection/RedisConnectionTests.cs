using System.Net;
using Sluice.Redis.Connection;

namespace Sluice.Redis.Tests.Connection;

/// <summary>Where Redis is, as users write it; a password never reaches a message or a description.</summary>
public sealed class RedisConnectionTests
{
    [Fact]
    public void Parse_HostAndPort_DoesNotAbortWhenRedisIsDown()
    {
        var options = RedisConnection.Parse("127.0.0.1:6390");

        var endpoint = Assert.IsType<IPEndPoint>(Assert.Single(options.EndPoints));
        Assert.Equal(6390, endpoint.Port);
        Assert.False(options.AbortOnConnectFail);
        Assert.Null(options.Password);
    }

    [Fact]
    public void Parse_ConfigurationString_KeepsItsSettings()
    {
        var options = RedisConnection.Parse("cache.internal:6379,password=s3cret,ssl=true,connectTimeout=1500");

        Assert.Equal("s3cret", options.Password);
        Assert.True(options.Ssl);
        Assert.Equal(1500, options.ConnectTimeout);
        Assert.False(options.AbortOnConnectFail);
    }

    [Theory]
    [InlineData("redis://cache.internal", "cache.internal", 6379, null, null, false, null)]
    [InlineData("redis://cache.internal:6390/3", "cache.internal", 6390, null, null, false, 3)]
    [InlineData("redis://:p%40ss@cache.internal:6390", "cache.internal", 6390, null, "p@ss", false, null)]
    [InlineData("redis://alice:s3cret@cache.internal:6390/0", "cache.internal", 6390, "alice", "s3cret", false, 0)]
    [InlineData("rediss://s3cret@cache.internal:6390", "cache.internal", 6390, null, "s3cret", true, null)]
    public void Parse_Url(string url, string host, int port, string? user, string? password, bool ssl, int? database)
    {
        var options = RedisConnection.Parse(url);

        var endpoint = Assert.IsType<DnsEndPoint>(Assert.Single(options.EndPoints));
        Assert.Equal((host, port), (endpoint.Host, endpoint.Port));
        Assert.Equal(user, options.User);
        Assert.Equal(password, options.Password);
        Assert.Equal(ssl, options.Ssl);
        Assert.Equal(database, options.DefaultDatabase);
    }

    [Theory]
    [InlineData("", "Redis: no address given (expected host:port or redis://host:port).")]
    [InlineData("   ", "Redis: no address given (expected host:port or redis://host:port).")]
    [InlineData("password=s3cret", "Redis: '(no host)' names no host (expected host:port or redis://host:port).")]
    [InlineData("redis://:s3cret@", "Redis: '(no host)' is not a valid redis:// URL.")]
    [InlineData("redis://:s3cret@cache:6379/x", "Redis: the database in 'cache:6379' must be a number from 0 to 15, not 'x'.")]
    [InlineData("redis://:s3cret@cache:6379/16", "Redis: the database in 'cache:6379' must be a number from 0 to 15, not '16'.")]
    public void Parse_Mistakes_SayWhat_WithoutThePassword(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => RedisConnection.Parse(text));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:6390", "127.0.0.1:6390")]
    [InlineData("a:1,b:2,password=s3cret,ssl=true", "a:1,b:2")]
    [InlineData("redis://alice:s3cret@cache.internal:6390/2?x=s3cret", "cache.internal:6390")]
    [InlineData("rediss://s3cret@cache.internal", "cache.internal")]
    [InlineData("redis://us@er:s3cret@cache.internal", "cache.internal")]
    [InlineData("redis://s3cret@", "(no host)")]
    [InlineData("password=s3cret", "(no host)")]
    public void Describe_ShowsOnlyWhereRedisIs(string text, string expected) =>
        Assert.Equal(expected, RedisConnection.Describe(text));
}
