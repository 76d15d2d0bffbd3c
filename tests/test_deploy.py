"""The systemd examples in deploy/: valid units that run commands the CLI has.

Every unit is parsed as INI and each ``ExecStart`` is parsed by the CLI's own argument parser
(a renamed command or option fails here). Where ``systemd-analyze`` is installed, the units
are verified by it too, with the install prefix pointed at this checkout's ``geo-service``;
the test records which checks ran and asserts that they did.
"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from geo_service.cli import build_parser

DEPLOY = Path(__file__).parents[1] / "deploy"
UNITS = (
    "geo-service.service",
    "geo-service-watch.service",
    "geo-service-watch.timer",
    "geo-service-compact.service",
    "geo-service-compact.timer",
)
PREFIX = "/opt/geo-service/.venv/bin/geo-service"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"), source=name)
    return parser


def _exec_args(unit: configparser.ConfigParser) -> list[str]:
    """The CLI arguments of ``ExecStart``, with systemd's ``$VAR`` words left out."""
    words = shlex.split(unit["Service"]["ExecStart"])
    assert words[0] == PREFIX
    return [w for w in words[1:] if not w.startswith("$")]


def test_units_parse_and_name_existing_commands() -> None:
    service, watch, timer, compact, weekly = (_unit(n) for n in UNITS)
    serve = build_parser().parse_args(_exec_args(service))
    assert serve.command == "serve" and serve.workers == 4
    once = build_parser().parse_args(_exec_args(watch))
    assert once.command == "watch" and once.once
    assert watch["Service"]["Type"] == "oneshot"
    assert timer["Timer"]["Unit"] == "geo-service-watch.service"
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"
    maintenance = build_parser().parse_args(_exec_args(compact))
    assert maintenance.command == "store" and maintenance.store_command == "compact"
    assert maintenance.keep_days == 7 and compact["Service"]["Type"] == "oneshot"
    assert weekly["Timer"]["Unit"] == "geo-service-compact.service"
    assert weekly["Timer"]["OnCalendar"] and weekly["Install"]["WantedBy"] == "timers.target"
    # The three services name the same store.
    store = "Environment=GEO_SERVICE_DB=/var/lib/geo-service/hotspots.duckdb\n"
    services = [n for n in UNITS if n.endswith(".service")]
    assert all(store in (DEPLOY / n).read_text(encoding="utf-8") for n in services)


def test_a_renamed_option_would_fail_the_parse_check() -> None:
    """The check above can fail: an option the CLI lacks is refused (argparse exits 2)."""
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["watch", "/tmp/x", "--eens"])  # noqa: S108
    assert info.value.code == 2


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    ran = []
    for name in UNITS:
        _unit(name)  # parses as INI (the fallback's check, run everywhere)
        ran.append(f"ini:{name}")
    tool = shutil.which("systemd-analyze")
    if tool is not None:
        exe = Path(sys.executable).with_name("geo-service")
        assert exe.is_file(), exe
        for name in UNITS:
            text = (DEPLOY / name).read_text(encoding="utf-8")
            (tmp_path / name).write_text(text.replace(PREFIX, str(exe)), encoding="utf-8")
        out = subprocess.run(
            [tool, "verify", *(str(tmp_path / n) for n in UNITS)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        # Unknown keys and bad values are only warnings (exit 0): none may be printed.
        assert out.returncode == 0, out.stderr
        assert out.stderr.strip() == "", out.stderr
        ran.append("systemd-analyze")
    else:
        test_units_parse_and_name_existing_commands()
        ran.append("cli-parse fallback")
    assert len(ran) == len(UNITS) + 1, ran
