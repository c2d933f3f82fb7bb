"""The browser check fails when it should: a broken-book fixture, opened in headless Chromium."""

import base64
import shutil

import pytest

from qrnn_tools.book_check import check_book, contrast, first_screen_problems, reader_problems

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def test_reader_problems_from_what_a_page_shows():
    ok = {"src": "a.png", "alt": "Validation RMSE per epoch", "caption": "Fig. 1 What to see", "numbered": True}
    assert reader_problems({"figures": [ok], "overflow": 0, "raw": []}) == []
    bad = {"src": "0123456789abcdef0123.png", "alt": "0123456789abcdef0123.png", "caption": "", "numbered": False}
    found = reader_problems({"figures": [bad], "overflow": 300, "raw": ["{glue:text}`x`"]})
    assert len(found) == 4 and "no numbered caption" in found[0] and "300 px wider" in found[2]
    wide = reader_problems({"figures": [], "overflow": 0, "raw": [], "tables": [{"name": "Table 2 Claims", "over": 120}]})
    assert wide == ["table 'Table 2 Claims' is 120 px wider than its container (it scrolls or is clipped sideways)"]


def test_caption_contrast_by_wcag():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)  # AA's lightest grey
    found = {"figures": [], "overflow": 0, "raw": [], "captions": [
        {"text": "Fig. 1", "color": "rgb(34, 34, 34)", "background": "rgb(255, 255, 255)"},
        {"text": "faint", "color": "rgba(150, 150, 150, 1)", "background": "rgb(255, 255, 255)"}]}
    (problem,) = reader_problems(found)
    assert "'faint' has contrast 3.0:1" in problem


def test_first_screen_problems_name_what_is_missing_or_below_the_fold():
    ok = {"tally": {"top": 300, "bottom": 330}, "table": {"top": 400, "bottom": 760}, "height": 768}
    assert first_screen_problems(ok) == []
    low = first_screen_problems({**ok, "table": {"top": 500, "bottom": 900}})
    assert len(low) == 1 and "table" in low[0] and "ends at 900 px" in low[0]
    gone = first_screen_problems({**ok, "tally": None})
    assert gone == ["the front page has no the tally of verdicts (.qrnn-tally)"]


@pytest.mark.skipif(shutil.which("chromium") is None and not __import__("os").path.exists("/usr/bin/chromium"),
                    reason="needs Debian's chromium")
def test_a_broken_book_fails_the_check(tmp_path):
    (tmp_path / "fig.png").write_bytes(PNG)
    (tmp_path / "good.html").write_text(
        "<html><body><article><figure><img src='fig.png' alt='A line that falls'>"
        "<figcaption><span class='caption-number'>Fig. 1 </span>What to see</figcaption></figure>"
        "<table><caption>Table 1 Dark enough</caption><tr><td>1</td></tr></table>"
        "</article></body></html>")
    (tmp_path / "broken.html").write_text(
        "<html><body><article><img src='fig.png' alt='0123456789abcdef0123456789.png'>"
        "<div style='width:3000px'>wide</div><p>{cite:p}`spall1992multivariate`</p>"
        "<img src='missing.png' alt='gone'><figure><figcaption style='color:#aaa'>Too faint</figcaption></figure>"
        "<div style='width:600px'><div style='overflow-x:auto'><table><tr><th>wide table</th>"
        "<td style='white-space:nowrap'>" + "0.1234 [0.1200, 0.1300] " * 20 + "</td></tr></table></div></div>"
        "</article></body></html>")
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=front.html" />')
    (tmp_path / "front.html").write_text(  # the tally on the first screen, the table below it
        "<html><body><article><p class='qrnn-tally'>1 reproduced</p><div style='height:900px'></div>"
        "<table class='qrnn-first-table'><tr><td>0.1</td></tr></table></article></body></html>")
    problems = check_book(tmp_path)
    front = [p for p in problems if p.startswith("front.html")]
    assert len(front) == 1 and "arm x protocol table" in front[0] and "below the first screen" in front[0], front
    broken = [p for p in problems if p.startswith("broken.html")]
    assert not [p for p in problems if p.startswith("good.html")], problems
    assert any("no numbered caption" in p for p in broken)
    assert any("no alt text" in p for p in broken)
    assert any("wider than a 1,280 px window" in p for p in broken)
    assert any("unrendered role" in p for p in broken)
    assert any("image did not load: missing.png" in p for p in broken)
    assert any("table 'wide table' is" in p for p in broken), broken
    assert any("caption text 'Too faint' has contrast" in p for p in broken), broken


def test_a_figure_shown_narrower_than_its_text_is_sized_for_is_a_problem():
    from qrnn_study.figures import COLUMN_PX
    from qrnn_tools import book_check

    assert book_check.COLUMN_PX == COLUMN_PX  # the column the tests size figure text for is the one checked
    fig = {"src": "a.png", "alt": "Validation RMSE per epoch", "caption": "Fig. 1 What to see", "numbered": True}
    shown = [fig | {"natural": 1100, "shown": COLUMN_PX}, fig | {"natural": 500, "shown": 500}]
    assert reader_problems({"figures": shown, "overflow": 0, "raw": []}) == []
    found = reader_problems({"figures": [fig | {"natural": 1100, "shown": 520}], "overflow": 0, "raw": []})
    assert found == [f"figure a.png is shown 520 px wide, narrower than the {COLUMN_PX} px its text is sized for"]
