namespace Sluice.Mock.Content;

/// <summary>A unit vector made from the input's hash: equal inputs get equal vectors, different inputs different ones.</summary>
internal static class EmbeddingVector
{
    public static float[] For(string input, int dimensions)
    {
        var vector = new float[dimensions];
        var state = DeterministicHash.Of(input);
        double norm = 0;
        for (var i = 0; i < dimensions; i++)
        {
            var value = ((DeterministicHash.Next(ref state) >> 11) * (1.0 / (1UL << 53) * 2)) - 1;
            vector[i] = (float)value;
            norm += value * value;
        }

        var scale = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0f;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }
}
