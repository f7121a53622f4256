namespace Sluice.Mock.Requests;

/// <summary>
/// The mock's token estimate: one token per four UTF-16 characters, rounded up, and at least one. Cheap and
/// deterministic, which is what a simulator needs; it is documented in docs/mock.md so clients can match it.
/// </summary>
internal static class TokenEstimator
{
    public static long FromCharacters(long characters) => Math.Max(1, (characters + 3) / 4);
}
