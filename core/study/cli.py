"""``fima study run | show | export | plot``: the command line of studies.

:func:`add_study_parser` registers the ``study`` subcommand on ``fima``'s parser and
:func:`study_command` runs it; problems raise :class:`~core.io.InputError`, which ``fima`` turns
into exit status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

from ..arguments import positive_int
from ..io import InputError
from .cells import METRICS


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if not sep or not all(100 <= s <= 8000 for s in size):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT of 100 to 8000 pixels, got {text}")
    return size


def add_study_parser(sub) -> None:
    """Register ``fima study …`` on the subparsers object ``sub`` of ``fima``'s parser."""
    study = sub.add_parser("study", help="sweep parameters × images × variants; heatmaps")
    commands = study.add_subparsers(dest="study_command", required=True, parser_class=type(study))

    run = commands.add_parser("run", help="run (or resume) a study spec into DIR/study.db")
    run.add_argument("spec", metavar="SPEC.toml", help="study spec (TOML)")
    run.add_argument("--out", metavar="DIR", required=True, help="study folder (DIR/study.db)")
    run.add_argument(
        "--workers", metavar="N", type=positive_int, help="local worker processes (default: cores)"
    )
    run.add_argument("--ray", metavar="ADDRESS", help="run on Ray: a cluster ADDRESS or 'local'")
    run.add_argument(
        "--threads",
        metavar="N",
        type=positive_int,
        default=1,
        help="torch threads per cell (default 1)",
    )
    run.add_argument("--serial", action="store_true", help="run the cells in this process")
    run.add_argument("--retry-failed", action="store_true", help="run failed cells again")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    show = commands.add_parser("show", help="print a study's summary table")
    show.add_argument("dir", help="study folder")

    export = commands.add_parser("export", help="write a study's cells as CSV")
    export.add_argument("dir", help="study folder")
    export.add_argument("--csv", metavar="FILE", required=True, help="CSV file of the cells table")
    export.add_argument("--iterations", metavar="CSV", help="also the per-iteration rows")

    plot = commands.add_parser("plot", help="heatmap of a metric over two axes (PNG)")
    plot.add_argument("dir", help="study folder")
    plot.add_argument(
        "--x", metavar="AXIS", required=True, help="axis across (a grid axis, image or variant)"
    )
    plot.add_argument("--y", metavar="AXIS", required=True, help="axis up")
    plot.add_argument("--metric", required=True, choices=METRICS, help="what to colour by")
    plot.add_argument("--out", metavar="FILE.png", required=True, help="PNG file")
    plot.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="AXIS=VALUE",
        help="fix another axis (repeatable); axes not fixed are averaged",
    )
    plot.add_argument("--size", type=_size, default=(800, 640), help="WIDTHxHEIGHT (800x640)")


def study_command(args: argparse.Namespace) -> int:
    """Run ``fima study <command>``; returns the exit status."""
    handlers = {"run": _run, "show": _show, "export": _export, "plot": _plot}
    return handlers[args.study_command](args)


def _run(args: argparse.Namespace) -> int:
    from .backends import make_backend
    from .runner import run_study
    from .spec import load_spec

    if args.serial and (args.ray or args.workers):
        raise InputError("--serial runs in this process: leave out --workers and --ray")
    spec = load_spec(args.spec)
    backend = make_backend(args.workers, args.ray, args.threads, args.serial)
    report = run_study(spec, args.out, backend, args.retry_failed, progress=not args.quiet)
    skipped = report.total - report.todo
    print(
        f"fima: study: {report.done} done, {report.failed} failed"
        + (f", {skipped} already finished" if skipped else "")
        + f" of {report.total} cells in {report.seconds:.1f} s ({Path(args.out) / 'study.db'})",
        file=sys.stderr,
    )
    if report.failed:
        print(f"fima: {report.failed} cell(s) failed: fima study show {args.out}", file=sys.stderr)
    return 0


def _fmt(value, width: int = 0) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, float):
        text = "-" if not math.isfinite(value) else f"{value:.4g}"
    else:
        text = str(value)
    return text.ljust(width) if width else text


def _table(header: list[str], rows: list[list]) -> str:
    cells = [header, *[[_fmt(v) for v in row] for row in rows]]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def summary_text(folder: str | Path) -> str:
    """The text ``fima study show`` prints: counts, per-variant means, failed cells."""
    from .plot import axis_values
    from .store import StudyStore

    store = StudyStore.read(folder)
    try:
        axes = axis_values(store)
        counts = store.counts()
        rows = store.rows()
        shape = " × ".join(f"{name} {len(values)}" for name, values in axes.items())
        lines = [
            f"study {folder}: task {store.meta('task')}, {len(rows)} cells ({shape})",
            "status: "
            + ", ".join(f"{counts[s]} {s}" for s in ("done", "failed", "running", "pending")),
            "",
        ]
        shown = ("psnr", "best_psnr", "ssim", "accept_rate", "monotone", "seconds")
        table = []
        for variant in axes["variant"]:
            mine = [r for r in rows if r["variant"] == variant]
            done = [r for r in mine if r["status"] == "done"]
            means = []
            for metric in shown:
                values = [r[metric] for r in done if r[metric] is not None]
                means.append(sum(values) / len(values) if values else None)
            failed = sum(r["status"] == "failed" for r in mine)
            table.append([variant, len(mine), len(done), failed, *means])
        header = ["variant", "cells", "done", "failed", *(f"mean {m}" for m in shown)]
        lines.append(_table(header, table))
        failed = [r for r in rows if r["status"] == "failed"]
        if failed:
            lines += ["", f"failed cells ({len(failed)}):"]
            for row in failed[:20]:
                where = " ".join(f"{a}={_fmt(row[a])}" for a in store.axes)
                lines.append(
                    f"  #{row['id']} {Path(row['image']).name} {row['variant']} {where}: {_short(row['error'])}"
                )
            if len(failed) > 20:
                lines.append(f"  … and {len(failed) - 20} more (fima study export)")
        return "\n".join(lines)
    finally:
        store.close()


def _short(text: str | None, limit: int = 160) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(args: argparse.Namespace) -> int:
    print(summary_text(args.dir))
    return 0


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def export_csv(folder: str | Path, path: str | Path, iterations: str | Path | None = None) -> int:
    """Write the cells table (and optionally the iterations table) as CSV; returns the cell count."""
    from ..fileio import atomic_write_text
    from .store import StudyStore

    store = StudyStore.read(folder)
    try:
        tables = [("cells", path)] + ([("iterations", iterations)] if iterations else [])
        count = 0
        for table, target in tables:
            order = "id" if table == "cells" else "cell_id, k"
            cursor = store.con.execute(f"SELECT * FROM {table} ORDER BY {order}")
            lines = io.StringIO()
            writer = csv.writer(lines, lineterminator="\n")
            writer.writerow([d[0] for d in cursor.description])
            for row in cursor:
                writer.writerow([_csv_value(v) for v in row])
                count += table == "cells"
            atomic_write_text(target, lines.getvalue())
        return count
    finally:
        store.close()


def _export(args: argparse.Namespace) -> int:
    count = export_csv(args.dir, args.csv, args.iterations)
    print(f"fima: {count} cells → {args.csv}", file=sys.stderr)
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .plot import axis_values, heatmap_data, parse_where, write_heatmap
    from .store import StudyStore

    store = StudyStore.read(args.dir)
    try:
        where = parse_where(args.where, axis_values(store))
        heat = heatmap_data(store, args.x, args.y, args.metric, where)
    finally:
        store.close()
    if not heat.counts.any():
        raise InputError(f"no finished cells to plot in {args.dir} (fima study show)")
    if "variant" in heat.averaged:
        print("fima: note: averaging over variants (add --where variant=NAME)", file=sys.stderr)
    if args.metric == "accept_rate" and "variant" in heat.where and "variant" not in where:
        print(
            f"fima: note: accept_rate of {heat.where['variant']}'s cells only (pg makes no "
            "proposal; add --where variant=NAME for another)",
            file=sys.stderr,
        )
    write_heatmap(heat, args.out, args.size)
    return 0
