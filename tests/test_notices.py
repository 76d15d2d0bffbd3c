"""Licence and provenance: NOTICE.md lists every vendored and data file; CITATION.cff is valid.

The rule (stated in NOTICE.md): every file under ``geo_service/static/vendor/`` and ``data/``
has a table row in NOTICE.md whose first cell is its repository path in backticks. Files whose
name starts with LICENSE, LICENCE, COPYING, NOTICE or README (any case) are the notices
themselves and are exempt.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tomllib
from datetime import date
from pathlib import Path

import yaml

from tests.conftest import PROJECT_ROOT

NOTICE_TREES = ("geo_service/static/vendor", "data")
EXEMPT_PREFIXES = ("license", "licence", "copying", "notice", "readme")
# A Markdown table row whose first cell is one path in backticks.
ROW_PATH = re.compile(r"^\|\s*`([^`]+)`\s*\|", re.MULTILINE)


def listed_paths(notice_text: str) -> set[str]:
    """Return the paths in the first cell of NOTICE.md's table rows."""
    return set(ROW_PATH.findall(notice_text))


def _is_exempt(path: Path) -> bool:
    return path.name.lower().startswith(EXEMPT_PREFIXES)


def shipped_files(root: Path) -> list[str]:
    """Return the files under the notice trees of ``root`` (POSIX paths relative to ``root``)."""
    found: list[str] = []
    for tree in NOTICE_TREES:
        base = root / tree
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            rel = path.relative_to(root)
            if not path.is_file() or any(part.startswith(".") for part in rel.parts):
                continue
            if "__pycache__" in rel.parts or _is_exempt(path):
                continue
            found.append(rel.as_posix())
    return sorted(found)


def unlisted_files(root: Path, notice_text: str) -> list[str]:
    """Return the files under ``root``'s vendor and data trees that NOTICE.md does not list.

    Parameters
    ----------
    root
        A repository root (the real one, or a copy in a temporary folder).
    notice_text
        The text of NOTICE.md.

    Returns
    -------
    list of str
        Sorted POSIX paths relative to ``root``; empty when every file has a row.
    """
    listed = listed_paths(notice_text)
    return [path for path in shipped_files(root) if path not in listed]


def stale_entries(root: Path, notice_text: str) -> list[str]:
    """Return NOTICE.md rows for files under the notice trees that no longer exist."""
    return sorted(
        path
        for path in listed_paths(notice_text)
        if path.startswith(tuple(f"{tree}/" for tree in NOTICE_TREES))
        and not (root / path).is_file()
    )


def _notice() -> str:
    return (PROJECT_ROOT / "NOTICE.md").read_text(encoding="utf-8")


def _pyproject() -> dict[str, object]:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    assert isinstance(project, dict)
    return project


# -- NOTICE.md ------------------------------------------------------------------------------


def test_every_vendored_and_data_file_is_listed_in_notice() -> None:
    assert unlisted_files(PROJECT_ROOT, _notice()) == []


def test_notice_has_no_rows_for_missing_files() -> None:
    assert stale_entries(PROJECT_ROOT, _notice()) == []


def test_the_check_sees_the_real_trees() -> None:
    # Guards against a vacuous pass (a renamed folder would make both lists empty).
    shipped = shipped_files(PROJECT_ROOT)
    assert "geo_service/static/vendor/leaflet/leaflet.js" in shipped
    assert "data/nl/wijken_denhaag_westland_2018.geojson" in shipped
    assert "data/README.md" not in shipped  # exempt: a notice file


def test_an_unlisted_file_is_reported(tmp_path: Path) -> None:
    for tree in NOTICE_TREES:
        shutil.copytree(PROJECT_ROOT / tree, tmp_path / tree)
    notice = _notice()
    assert unlisted_files(tmp_path, notice) == []

    (tmp_path / "data/nl/extra_buurten.csv").write_text("code\nBU05180000\n")
    chart = tmp_path / "geo_service/static/vendor/chartjs"
    chart.mkdir()
    (chart / "chart.umd.js").write_text("/* not listed */\n")
    (chart / "LICENSE.md").write_text("MIT\n")  # exempt by name

    assert unlisted_files(tmp_path, notice) == [
        "data/nl/extra_buurten.csv",
        "geo_service/static/vendor/chartjs/chart.umd.js",
    ]
    # A row with the path (and only that) makes it pass again.
    row = "| `data/nl/extra_buurten.csv` | x | x | x | x |\n"
    assert unlisted_files(tmp_path, notice + row) == [
        "geo_service/static/vendor/chartjs/chart.umd.js"
    ]


def test_a_removed_file_leaves_a_stale_row(tmp_path: Path) -> None:
    for tree in NOTICE_TREES:
        shutil.copytree(PROJECT_ROOT / tree, tmp_path / tree)
    (tmp_path / "geo_service/static/vendor/leaflet/images/layers.png").unlink()
    assert stale_entries(tmp_path, _notice()) == [
        "geo_service/static/vendor/leaflet/images/layers.png"
    ]


# -- LICENSE and pyproject ------------------------------------------------------------------


# sha256 of the SPDX EUPL-1.2 text (npm spdx-license-list@6.12.0, licenses/EUPL-1.2.json,
# field licenseText) plus a final newline: LICENSE is that text, unedited.
EUPL_1_2_SHA256 = "57fb42fbcd0b037ce528ed8f72f1ec095d67bc6825ecf1448ff39be1fe68a4b4"


def test_license_is_the_unedited_eupl_1_2() -> None:
    raw = (PROJECT_ROOT / "LICENSE").read_bytes()
    text = raw.decode("utf-8")
    assert text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2\n")
    assert "according to Article 5 EUPL are:" in text
    assert hashlib.sha256(raw).hexdigest() == EUPL_1_2_SHA256


def test_pyproject_declares_the_licence_and_its_files() -> None:
    project = _pyproject()
    assert project["license"] == "EUPL-1.2"
    files = project["license-files"]
    assert isinstance(files, list)
    assert set(files) == {"LICENSE", "NOTICE.md"}
    assert all((PROJECT_ROOT / name).is_file() for name in files)


# -- CITATION.cff ---------------------------------------------------------------------------


def test_citation_cff_parses_and_matches_pyproject() -> None:
    cff = yaml.safe_load((PROJECT_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    project = _pyproject()
    assert cff["cff-version"] == "1.2.0"
    assert cff["message"]
    assert cff["title"]
    assert str(cff["version"]) == project["version"]
    assert cff["license"] == project["license"] == "EUPL-1.2"
    assert isinstance(cff["date-released"], date)
    assert cff["authors"] and all(a.get("name") or a.get("family-names") for a in cff["authors"])
