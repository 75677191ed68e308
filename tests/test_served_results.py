

@pytest.mark.parametrize("width", [80, 120])
def test_served_tables_fit_the_terminal(width: int) -> None:
    """ormgc run --shape served's table and advice at 80 and 120 columns: no line wraps."""
    from ormgc.views.advice.served import ServedBounds, format_served_advice, served_advice
    from ormgc.views.tables.served import format_served

    for path in FILES:
        records = json.loads(path.read_text())
        text = format_served(records, width)
        text += "\n" + format_served_advice(served_advice(records, "default", ServedBounds()))
        too_long = [line for line in text.splitlines() if len(line) > width]
        assert not too_long, (path.name, too_long)
        assert "p99 ms" in text and "policy" in text  # the two columns that answer
