"""Forecast commands: ``backtest`` (accuracy of every method) and ``model-card``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from geo_service.commands.common import open_existing, parse_date
from geo_service.filters import IncidentFilter


def _names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register the forecast commands."""
    p = sub.add_parser(
        "backtest",
        parents=[common],
        help="rolling-origin backtest of the hotspot forecasts (PAI, hit rate, RRI) as JSON",
    )
    p.add_argument("--category", required=True)
    p.add_argument(
        "--method",
        type=_names,
        help="comma-separated methods (default: all), e.g. msrate,naive_1095d,random",
    )
    p.add_argument(
        "--horizon-days",
        type=int,
        help="length of each test period (default 14; 30 = one month for month data)",
    )
    p.add_argument(
        "--train-days",
        type=float,
        help="history cap for every method (default: all data before each origin)",
    )
    p.add_argument(
        "--coverage", type=float, default=0.03, help="share of cells forecast (default 0.03)"
    )
    p.add_argument("--start", type=parse_date, help="first day of the test window (origins)")
    p.add_argument("--end", type=parse_date, help="last day of the test window (inclusive)")
    p.add_argument("--res", type=int, default=10, help="H3 resolution 8-11 (default 10)")
    p.add_argument("--municipality", help="CBS code, e.g. GM0518")
    p.add_argument("--seed", type=int, default=0, help="seed of the random baseline")
    cov = p.add_mutually_exclusive_group()
    cov.add_argument(
        "--covariates",
        type=_names,
        help="other categories covrate reads as exposure proxies, comma-separated "
        "(default: every other stored category)",
    )
    cov.add_argument(
        "--no-covariates",
        action="store_true",
        help="covrate uses the category's own history only",
    )
    p.add_argument(
        "--no-record",
        action="store_true",
        help="do not keep this result as the latest backtest (read by model-card)",
    )
    p.set_defaults(handler=_backtest)

    p = sub.add_parser(
        "model-card",
        parents=[common],
        help="model card of the forecast in the structure of the Algoritmeregister",
    )
    p.add_argument("--category", required=True)
    p.add_argument("--municipality", help="CBS code, e.g. GM0518")
    p.add_argument("--format", choices=["markdown", "json"], default="markdown")
    p.add_argument("--out", type=Path, help="output file (default: stdout)")
    p.set_defaults(handler=_model_card)


def _backtest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from geo_service.analyses.backtesting import (
        BacktestParams,
        backtest_json,
        run_backtest,
    )
    from geo_service.store.evaluations import record_backtest

    params = BacktestParams(
        incidents=IncidentFilter(
            category=args.category, municipality=args.municipality, start=args.start, end=args.end
        ),
        methods=args.method,
        horizon_days=args.horizon_days,
        train_days=args.train_days,
        coverage=args.coverage,
        res=args.res,
        seed=args.seed,
        covariates=() if args.no_covariates else args.covariates,
        max_cells=None,
    )
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="backtest", unit="voorspelling", file=sys.stderr)
        bar.update(done - bar.n)

    with open_existing(args.db) as store:
        try:
            report = run_backtest(store, params, progress=progress)
        finally:
            if bar is not None:
                bar.close()
    doc = backtest_json(report)
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, allow_nan=False) + "\n")
    comp = doc["metadata"]["comparison"]
    if comp.get("ratio") is not None:
        print(
            f"{comp['method']} / {comp['best_baseline']} = {comp['ratio']:.3f}x: {comp['verdict']}",
            file=sys.stderr,
        )
    if not args.no_record:
        try:
            where = record_backtest(args.db, doc)
            print(f"latest backtest kept in {where.name}", file=sys.stderr)
        except OSError as exc:
            # The result is on stdout already; only the record for the model card is missing.
            print(f"geo-service: warning: backtest not recorded ({exc.strerror})", file=sys.stderr)
    return 0


def _model_card(args: argparse.Namespace) -> int:
    from geo_service.analyses.modelcard import model_card, model_card_markdown

    with open_existing(args.db) as store:
        card = model_card(store, args.db, args.category, args.municipality)
    if args.format == "json":
        text = json.dumps(card, ensure_ascii=False, indent=2)
    else:
        text = model_card_markdown(card)
    if args.out:
        args.out.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        print(f"model card -> {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    return 0
