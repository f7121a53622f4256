namespace Sluice.Engine;

/// <summary>
/// The responses every try of one request produced. Tries may overlap (a hedge beside a slow try) and a try abandoned
/// at its timeout may still produce a response later, so superseded answers are collected and released together once
/// the job has ended, and any that arrive after that are released on arrival.
/// </summary>
internal sealed class TriedAnswers
{
    private readonly List<HttpResponseMessage> _answers = new(1);
    private bool _ended;

    public void Add(HttpResponseMessage? response)
    {
        if (response is null)
        {
            return;
        }

        lock (_answers)
        {
            if (!_ended)
            {
                _answers.Add(response);
                return;
            }
        }

        response.Dispose();
    }

    /// <summary>Ends the job: releases every answer but <paramref name="final"/>, now and from now on.</summary>
    public void ReleaseAllBut(HttpResponseMessage? final)
    {
        HttpResponseMessage[] superseded;
        lock (_answers)
        {
            _ended = true;
            superseded = [.. _answers.Where(answer => !ReferenceEquals(answer, final))];
            _answers.Clear();
        }

        foreach (var answer in superseded)
        {
            answer.Dispose();
        }
    }
}
