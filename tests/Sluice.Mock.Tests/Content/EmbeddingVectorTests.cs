using Sluice.Mock.Content;

namespace Sluice.Mock.Tests.Content;

public class EmbeddingVectorTests
{
    [Fact]
    public void For_IsAUnitVector_DeterministicPerInput()
    {
        var vector = EmbeddingVector.For("hello", 1536);

        Assert.Equal(1536, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 4);
        Assert.Equal(vector, EmbeddingVector.For("hello", 1536));
        Assert.NotEqual(vector, EmbeddingVector.For("hello!", 1536));
    }
}
