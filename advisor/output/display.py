"""Terminal output: the ranking, the family list and the profile as aligned tables (rich).

Colours appear only on a terminal; piped output is plain text.
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table


def _console() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:  # a file or a pipe: room for the whole table
        console = Console(highlight=False, soft_wrap=False, width=160)
    return console


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_recommendation(rec, quiet: bool = False) -> None:
    console = _console()
    table = Table(title=f"advisor · {rec.task} · recommendation: {rec.best_family}", title_justify="left")
    for col, justify in [("", "left"), ("family", "left"), ("score", "right"), ("fidelity", "right"), ("uncertainty", "right"), ("compute", "right"), ("interpret.", "right"), ("trials", "right"), ("status", "left")]:
        table.add_column(col, justify=justify, no_wrap=col != "status")
    for e in rec.ranking_entries:
        c = e["criteria"] or {}
        mark = "★" if e["family"] == rec.best_family else ""
        status = e["status"] if not e["reason"] else f"{e['status']}: {e['reason']}"
        style = "bold green" if mark else ("dim" if e["status"] in ("unsupported", "skipped") else ("red" if e["status"] == "failed" else None))
        table.add_row(
            mark,
            e["family"],
            _fmt(e["score"]),
            _fmt(c.get("fidelity")),
            _fmt(c.get("uncertainty")),
            _fmt(c.get("compute")),
            _fmt(c.get("interpretability")),
            str(e["trials"]["total"]),
            status,
            style=style,
        )
    console.print(table)
    for line in rec.rationale:
        console.print(f"- {line}")
    if rec.source == "prior":
        console.print(f"advice from the priors in {rec.elapsed_s:.1f}s; nothing was trained")
    else:
        console.print(f"elapsed {rec.elapsed_s:.1f}s of a {rec.budget_s:g}s budget")


def print_families(registry, task: str | None = None, as_json: bool = False) -> None:
    rows = []
    for name, fam in sorted(registry.families.items()):
        if task and task not in fam.tasks:
            continue
        plugin = registry.plugin_of[name]
        rows.append(
            {
                "name": name,
                "title": fam.title,
                "plugin": plugin.name,
                "version": plugin.version,
                "tasks": sorted(fam.tasks),
                "modalities": sorted(fam.modalities),
                "interpretability": {"score": fam.interpretability.score, "reason": fam.interpretability.reason},
                "uncertainty": {"kind": fam.uncertainty.kind, "reason": fam.uncertainty.reason},
                "cost": fam.cost,
            }
        )
    errors = [{"plugin": p.name, "module": p.module, "error": p.error} for p in registry.plugins if p.error]
    if as_json:
        print(json.dumps({"families": rows, "errors": errors}, indent=2))
        return
    console = _console()
    table = Table(title="advisor families", title_justify="left")
    for col in ("name", "plugin", "version", "tasks", "data", "interpret.", "uncertainty", "cost"):
        table.add_column(col, no_wrap=col in ("name", "plugin", "version"))
    for r in rows:
        table.add_row(r["name"], r["plugin"], r["version"] or "-", ", ".join(r["tasks"]), ", ".join(r["modalities"]), f"{r['interpretability']['score']:.2f}", r["uncertainty"]["kind"], r["cost"])
    console.print(table)
    for e in errors:
        console.print(f"[red]plugin {e['plugin']} ({e['module']}) not loaded:[/red] {e['error']}", markup=True)


def print_profile(profile, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(profile.to_dict(), indent=2, default=str))
        return
    console = _console()
    p = profile
    shape = f" {'x'.join(map(str, p.image_shape))}" if p.image_shape else (f" length {p.sequence_length}" if p.sequence_length else "")
    console.print(f"{p.n_rows:,} rows · {p.n_features} features · {p.modality}{shape} · {p.memory_mb:.1f} MB")
    console.print(f"modality: {p.modality_reason}")
    if p.target:
        extra = f", {p.n_classes} classes, balance {p.class_balance}" if p.n_classes else ""
        console.print(f"target: {p.target} ({p.target_kind}{extra})")
    console.print(f"missing: {100 * p.missing_share:.1f}% · categorical share: {100 * p.categorical_share:.0f}% · intrinsic dimension (90% variance): {p.intrinsic_dim}")
    if p.sampled_rows < p.n_rows:
        console.print(f"statistics from a sample of {p.sampled_rows:,} rows")
    table = Table(title_justify="left")
    for col in ("column", "kind", "dtype", "missing", "unique", "role", "summary"):
        table.add_column(col, no_wrap=col != "summary")
    for c in p.columns[:200]:
        s = c.stats
        if "min" in s:
            summary = f"{s['min']:.4g} .. {s['max']:.4g}, mean {s['mean']:.4g}"
        elif "top" in s:
            summary = ", ".join(f"{k} ({v})" for k, v in list(s["top"].items())[:3])
        else:
            summary = c.note or ""
        table.add_row(c.name, c.kind, c.dtype, f"{100 * c.missing:.1f}%", str(c.unique), c.role, summary)
    console.print(table)
    if len(p.columns) > 200:
        console.print(f"... and {len(p.columns) - 200} more columns (use --json for all)")
    for w in p.warnings:
        console.print(f"warning: {w}")


def _local_time(stamp: str | None) -> str:
    """An ISO time stamp (recorded in UTC) as local time to the minute; as recorded if it does not parse."""
    if not stamp:
        return "-"
    import datetime

    try:
        return datetime.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def print_runs(runs: list[dict], as_json: bool = False) -> None:
    """`advisor runs`: one row per run; the study name is never cut, `advisor worker --study` needs it whole."""
    if as_json:
        print(json.dumps(runs, indent=2))
        return
    console = _console()
    if not runs:
        console.print("no runs recorded")
        return
    table = Table(title="advisor runs", title_justify="left")
    for col in ("started", "task", "status", "recommendation", "trials", "study", "data"):
        # on a narrow terminal the recommendation and the data path fold; the study name stays whole
        table.add_column(col, justify="right" if col == "trials" else "left", no_wrap=col not in ("recommendation", "data"), overflow="fold")
    for r in runs:
        table.add_row(
            _local_time(r.get("started")),
            r.get("task") or "-",
            r.get("status") or "-",
            str(r.get("recommendation") or "-"),
            str(r.get("trials") or 0),
            r["study"],
            str(r.get("data") or "(in memory)"),
        )
    console.print(table)
