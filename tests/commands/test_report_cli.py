"""``geo-service report``: the Veiligheidskaart PDF, opened and read back with pypdf.

The PDF is printed by Debian's Chromium; the test reads its pages' text: page numbers, the
contents list, one section per stadsdeel (each starting its own page), a chart per section,
the edition line on every page, and no count below k in the public edition's HTML.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

import geo_service.web.pdf as pdf
from geo_service.cli import main
from geo_service.demo.areas import DEN_HAAG_STADSDELEN
from tests.clock import DemoClock
from tests.web_fixtures import DemoDB, demo_clock, demo_db

__all__ = ["demo_clock", "demo_db"]

pytestmark = pytest.mark.clock
STADSDELEN = [name for name, _ in DEN_HAAG_STADSDELEN.values()]


def _last_whole_year(clock: DemoClock) -> int:
    return clock.last.year if clock.last.month == 12 else clock.last.year - 1


@pytest.fixture(scope="module")
def public_pdf(demo_db: DemoDB, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "veiligheidskaart.pdf"
    assert (
        main(["--db", str(demo_db.path), "report", "--municipality", "GM0518", "--out", str(out)])
        == 0
    )
    return out


@pytest.mark.browser
@pytest.mark.slow
def test_pdf_pages_contents_sections_and_charts(
    public_pdf: Path, demo_clock: DemoClock, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = PdfReader(public_pdf)
    texts = [p.extract_text() for p in reader.pages]
    n = len(texts)
    # Contents page + 8 stadsdelen + the effects table (one or more pages) + the method.
    assert n >= 1 + 8 + 1 + 1
    for i, text in enumerate(texts, start=1):
        assert f"pagina {i} van {n}" in text  # Chromium's footer on every page
        assert "Openbare editie" in text  # the edition line on every page
    year = _last_whole_year(demo_clock)
    first = texts[0]
    assert f"Veiligheidskaart 's-Gravenhage {year}" in first
    assert "Inhoud" in first and all(name in first for name in STADSDELEN)
    assert "Deels synthetisch" in first
    # One section per stadsdeel, each at the top of its own page, with its chart.
    for name in STADSDELEN:
        starts = [i for i, t in enumerate(texts) if t.startswith(f"{name} (SD0518")]
        assert len(starts) == 1, name
        page = texts[starts[0]]
        assert "afgeleid" in page
        assert re.search(r"\b" + " ".join(str(y) for y in range(year - 3, year + 1)), page)
        # The chart's y axis: its tick labels 0, half and top each on a line of their own.
        assert re.search(r"\n0\n\d+(,\d+)?\n\d+(,\d+)?\n", page), page[:400]
        assert f"Figuur: {name}, incidenten per 1.000 woningen" in page
        assert "Deels synthetisch" in page
    # The contents list gives each section's page number: the page it starts on.
    for name in [*STADSDELEN, "Methode"]:
        found = re.search(rf"^{re.escape(name)} (\d+)$", first, flags=re.MULTILINE)
        assert found, (name, first[:800])
        assert texts[int(found.group(1)) - 1].startswith(name), name
    # Chromium also writes the headings as the PDF's outline (bookmarks).
    titles = [o["/Title"] for o in reader.outline[1] if isinstance(o, dict)]
    assert titles[0] == "Inhoud" and len([t for t in titles if "(SD0518" in t]) == 8
    # (Chromium sets "ff" as a ligature: "Eﬀect" in the text layer.)
    effects = [i for i, t in enumerate(texts) if "van IHA's en" in t.split("\n")[0]]
    assert len(effects) == 1 and effects[0] == 9
    assert any("Weighted Displacement Quotient" in t for t in texts[9:-1])
    assert texts[-1].startswith("Methode")


@pytest.mark.browser
@pytest.mark.slow
def test_analyst_pdf_says_exact_on_every_page(demo_db: DemoDB, tmp_path: Path) -> None:
    out = tmp_path / "analist.pdf"
    assert (
        main(["--db", str(demo_db.path), "report", "--edition", "analist", "--out", str(out)]) == 0
    )
    texts = [p.extract_text() for p in PdfReader(out).pages]
    assert texts and all("Analistenversie: exacte aantallen" in t for t in texts)


def test_public_html_shows_no_count_below_k(
    demo_db: DemoDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "vk.html"
    assert main(["--db", str(demo_db.path), "report", "--level", "wijk", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["areas"] == 44 and summary["edition"] == "openbaar"
    page = out.read_text(encoding="utf-8")
    cells = re.findall(r'<td class="count">([^<]*|&lt;\d+)</td>', page)
    assert len(cells) == 44 * 2 * len(summary["years"])
    withheld = [c for c in cells if c.startswith("&lt;")]
    assert withheld and set(withheld) == {"&lt;5"}  # the demo has wijk-years below k
    shown = [int(c.replace(".", "")) for c in cells if not c.startswith("&lt;")]
    assert min(shown) >= 5
    assert "<form" not in page and "Analistenversie" not in page


def test_missing_chromium_is_a_dutch_one_line_error(
    demo_db: DemoDB,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(pdf, "DEFAULT_CHROMIUM", str(tmp_path / "geen-chromium"))
    monkeypatch.setenv("GEO_SERVICE_CHROMIUM", str(tmp_path / "ook-niet"))
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "vk.pdf"
    assert main(["--db", str(demo_db.path), "report", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Chromium ontbreekt" in err and "make browser" in err
    assert not out.exists()


def test_bad_output_and_year_are_refused(
    demo_db: DemoDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(demo_db.path), "report", "--out", str(tmp_path / "vk.docx")]) == 2
    assert "pdf of .html" in capsys.readouterr().err
    assert (
        main(
            [
                "--db",
                str(demo_db.path),
                "report",
                "--year",
                "2200",
                "--out",
                str(tmp_path / "a.html"),
            ]
        )
        == 2
    )
    assert "geen heel jaar" in capsys.readouterr().err
