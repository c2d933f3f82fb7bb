"""The front page's scorecard as a table, each distinct rule written once below it.

``card`` is :func:`qrnn_study.scorecard.scorecard`'s rows (``claim``, ``deck``, ``measured``, ``verdict``,
``rule``, ``basis``). Several claims share a rule word for word (the epoch claims' binomial rule, the paired
comparisons'); a row names its rule by number and the rules follow the table, each once.
"""

from __future__ import annotations


def rule_numbers(card: list[dict]) -> dict[str, int]:
    """``{rule text: number}``, numbered 1, 2, ... in the order the rules first appear in ``card``."""
    numbers: dict[str, int] = {}
    for r in card:
        if r["rule"]:
            numbers.setdefault(r["rule"], len(numbers) + 1)
    return numbers


def scorecard_markdown(card: list[dict]) -> str:
    """The table (claim, deck, here, verdict, rule number and basis) and the numbered rules (Markdown)."""
    numbers = rule_numbers(card)
    rows = ["| claim | deck | here | verdict | rule; basis |", "|---|---|---|---|---|"]
    for r in card:
        how = "; ".join(x for x in ((f"rule {numbers[r['rule']]}" if r["rule"] else ""), r["basis"]) if x)
        rows.append(f"| {r['claim']} | {r['deck']} | {r['measured']} | **{r['verdict']}** | {how} |")
    rules = "\n".join(f"{k}. {rule[:1].upper()}{rule[1:]}." for rule, k in numbers.items())
    return "\n".join(rows) + "\n\n**The rules**, each once (a row names its rule by number):\n\n" + rules
