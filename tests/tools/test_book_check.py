"""The browser check fails when it should: a broken-book fixture, opened in headless Chromium."""

import base64
import shutil

import pytest

from qrnn_tools.book_check import check_book, reader_problems

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def test_reader_problems_from_what_a_page_shows():
    ok = {"src": "a.png", "alt": "Validation RMSE per epoch", "caption": "Fig. 1 What to see", "numbered": True}
    assert reader_problems({"figures": [ok], "overflow": 0, "raw": []}) == []
    bad = {"src": "0123456789abcdef0123.png", "alt": "0123456789abcdef0123.png", "caption": "", "numbered": False}
    found = reader_problems({"figures": [bad], "overflow": 300, "raw": ["{glue:text}`x`"]})
    assert len(found) == 4 and "no numbered caption" in found[0] and "300 px wider" in found[2]


@pytest.mark.skipif(shutil.which("chromium") is None and not __import__("os").path.exists("/usr/bin/chromium"),
                    reason="needs Debian's chromium")
def test_a_broken_book_fails_the_check(tmp_path):
    (tmp_path / "fig.png").write_bytes(PNG)
    (tmp_path / "good.html").write_text(
        "<html><body><article><figure><img src='fig.png' alt='A line that falls'>"
        "<figcaption><span class='caption-number'>Fig. 1 </span>What to see</figcaption></figure>"
        "</article></body></html>")
    (tmp_path / "broken.html").write_text(
        "<html><body><article><img src='fig.png' alt='0123456789abcdef0123456789.png'>"
        "<div style='width:3000px'>wide</div><p>{cite:p}`spall1992multivariate`</p>"
        "<img src='missing.png' alt='gone'></article></body></html>")
    problems = check_book(tmp_path)
    broken = [p for p in problems if p.startswith("broken.html")]
    assert not [p for p in problems if p.startswith("good.html")], problems
    assert any("no numbered caption" in p for p in broken)
    assert any("no alt text" in p for p in broken)
    assert any("wider than a 1,280 px window" in p for p in broken)
    assert any("unrendered role" in p for p in broken)
    assert any("image did not load: missing.png" in p for p in broken)
