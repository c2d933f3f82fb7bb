"""The scorecard table names each row's rule by number and writes each distinct rule once."""

from qrnn_study.pages.scorecard_table import rule_numbers, scorecard_markdown


def row(claim, rule, basis="b"):
    return {"claim": claim, "deck": "d", "measured": "m", "verdict": "inconclusive", "rule": rule, "basis": basis}


def test_a_shared_rule_is_written_once_and_every_row_names_it():
    card = [row("a", "the binomial rule"), row("b", "the paired rule"), row("c", "the binomial rule"),
            row("d", "", "not tested: why")]
    assert rule_numbers(card) == {"the binomial rule": 1, "the paired rule": 2}
    text = scorecard_markdown(card)
    assert text.count("binomial rule") == 1 and text.count("paired rule") == 1
    table = text.split("\n\n")[0].splitlines()
    assert len(table) == 2 + len(card)
    assert "rule 1; b" in table[2] and "rule 2; b" in table[3] and "rule 1; b" in table[4]
    assert table[5].endswith("| not tested: why |")
    assert "1. The binomial rule.\n2. The paired rule." in text
