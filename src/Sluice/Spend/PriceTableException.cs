namespace Sluice.Spend;

/// <summary>A prices file that cannot be used: not JSON, or a value that is not a price. The message names the file, the line and the value.</summary>
public sealed class PriceTableException : Exception
{
    /// <summary>Makes the exception with a default message.</summary>
    public PriceTableException()
        : base("The prices file is invalid.")
    {
    }

    /// <summary>Makes the exception.</summary>
    /// <param name="message">What is wrong, for people.</param>
    public PriceTableException(string message)
        : base(message)
    {
    }

    /// <summary>Makes the exception.</summary>
    /// <param name="message">What is wrong, for people.</param>
    /// <param name="innerException">The error behind it.</param>
    public PriceTableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Makes the exception for one place in one file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="line">The line, from 1; <see langword="null"/> when the whole file is at fault.</param>
    /// <param name="problem">What is wrong there.</param>
    /// <param name="innerException">The error behind it.</param>
    internal PriceTableException(string path, int? line, string problem, Exception? innerException = null)
        : base(line is { } number ? $"{path}:{number}: {problem}" : $"{path}: {problem}", innerException)
    {
        FilePath = path;
        Line = line;
    }

    /// <summary>The file at fault, when one is.</summary>
    public string? FilePath { get; }

    /// <summary>The line at fault, from 1, when one is.</summary>
    public int? Line { get; }
}
