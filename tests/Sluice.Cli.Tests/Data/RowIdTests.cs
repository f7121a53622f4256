using Sluice.Cli.Data;

namespace Sluice.Cli.Tests.Data;

public sealed class RowIdTests
{
    private static DataRow Row(params (string Name, string Text)[] fields) => new(2, "line 2", [.. fields.Select(f => new DataField(f.Name, f.Text))]);

    [Fact]
    public void ContentHash_IsStable_AndIgnoresColumnOrder()
    {
        string id = RowId.ContentHash(Row(("a", "1"), ("b", "2")));

        Assert.Equal(id, RowId.ContentHash(Row(("b", "2"), ("a", "1"))));
        Assert.Matches("^row-[0-9a-f]{16}$", id);
        // Pinned: ids must not change between releases, or export --join no longer finds rows prepared before.
        Assert.Equal("row-" + "09ae4f216f533b5e", id);
    }

    [Fact]
    public void ContentHash_DiffersWhenAValueMovesBetweenFields()
    {
        Assert.NotEqual(RowId.ContentHash(Row(("a", "ab"), ("b", "c"))), RowId.ContentHash(Row(("a", "a"), ("b", "bc"))));
    }

    [Fact]
    public void IdColumn_ValueIsTheId_EmptyOrAbsentIsAProblem()
    {
        Assert.Equal("p-1", RowId.Of(Row(("id", "p-1")), "id", out _));
        Assert.Null(RowId.Of(Row(("id", " ")), "id", out string? empty));
        Assert.Contains("empty", empty, StringComparison.Ordinal);
        Assert.Null(RowId.Of(Row(("x", "1")), "id", out string? absent));
        Assert.Contains("no field 'id'", absent, StringComparison.Ordinal);
    }
}
