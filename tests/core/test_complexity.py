"""``make lint``'s size check (tools/complexity.py): its limits hold exactly, and the product keeps them."""

from __future__ import annotations

from tools import complexity


def branching(name: str, ifs: int) -> str:
    """A function of cyclomatic complexity ``ifs + 1`` (each ``if`` adds one decision)."""
    body = "".join(f"    if x == {k}:\n        return {k}\n" for k in range(ifs))
    return f"def {name}(x):\n{body}    return -1\n"


def test_the_limits_are_exactly_twelve_decisions_eight_parameters_and_four_hundred_lines(tmp_path):
    at_limit = tmp_path / "at_limit.py"
    at_limit.write_text(
        branching("twelve", 11)
        + "def eight(a, b, c, d, e, f, g, h):\n    return a\n"
        + "class K:\n    def method(self, a, b, c, d, e, f, g, h):\n        return a\n"
        + "\n" * (400 - 29)  # 24 + 2 + 3 lines of code above
    )
    assert len(at_limit.read_text().splitlines()) == 400
    figures = complexity.measure([at_limit], tmp_path)
    assert max(m.value for m in figures["complexity"]) == 12
    assert {m.name: m.value for m in figures["parameters"]} == {"twelve": 1, "eight": 8, "method": 8}
    assert complexity.offenders(figures) == []

    past = tmp_path / "past.py"
    past.write_text(
        branching("thirteen", 12)
        + "def nine(a, b, c, d, e, f, g, h, *rest):\n    return a\n"
        + "class K:\n    def method(self, a):\n        def inner(x):\n"
        + "".join(f"            if x == {k}:\n                return {k}\n" for k in range(12))
        + "            return -1\n        return inner\n"
        + "\n" * 400
    )
    found = complexity.offenders(complexity.measure([past], tmp_path))
    assert found == [
        "complexity above 12: past.py:1 thirteen: 13",
        "complexity above 12: past.py:31 inner: 13",
        "parameters above 8: past.py:27 nine: 9",
        f"lines above 400: past.py:1 lines: {len(past.read_text().splitlines())}",
    ]
    assert complexity.main([str(past)]) == 1 and complexity.main([str(at_limit)]) == 0


def test_the_product_keeps_the_limits():
    assert complexity.offenders(complexity.measure(complexity.product_files())) == []
