"""A self-contained HTML report of a recommendation: one file, no network needed to view it.

Top: the recommendation and the rationale. Then the four criteria per family (bars), the Pareto
front (fidelity against compute), the search history per family, previews (generated against
real data, or noisy / denoised / clean images), the dataset profile, and the families that
failed or do not apply, with their reasons. Figures are drawn by matplotlib and embedded as SVG;
every string that came from the user's data is HTML-escaped.

The figures use matplotlib's object API (`Figure`, saved to a buffer), never `pyplot` nor
`matplotlib.use`: writing a report leaves the caller's backend and open figures alone.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

CRITERIA = ("fidelity", "uncertainty", "compute", "interpretability")
COLOURS = {"fidelity": "#3b6ea8", "uncertainty": "#8c6bb1", "compute": "#e08a2c", "interpretability": "#4d9a6a"}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1100px;padding:24px;color:#1d2430;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #d8dde6;padding-bottom:.2em}
.winner{background:#eef5ee;border-left:6px solid #4d9a6a;padding:12px 16px;margin:12px 0}
.winner .name{font-size:1.4em;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.92em} th,td{padding:4px 8px;border-bottom:1px solid #e3e7ee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} tr.best td{font-weight:600}
figure{margin:12px 0} figure svg{max-width:100%;height:auto}
.muted{color:#6a7383} .grid{display:flex;flex-wrap:wrap;gap:16px}
"""


def _new_figure(figsize):
    """A figure outside pyplot: no backend is chosen and nothing is registered with pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")  # the SVG canvas, chosen by format alone
    text = buf.getvalue()
    return text[text.find("<svg"):]


def _figure(svg: str, caption: str) -> str:
    return f'<figure class="figure">{svg}<figcaption class="muted">{html.escape(caption)}</figcaption></figure>'


def _scored(doc):
    return [e for e in doc["ranking"] if e.get("criteria")]


def criteria_chart(doc) -> str:
    import numpy as np

    entries = _scored(doc)
    fig = _new_figure((9, 1.4 + 0.9 * len(entries)))
    ax = fig.subplots()
    y = np.arange(len(entries))
    height = 0.8 / len(CRITERIA)
    for i, c in enumerate(CRITERIA):
        ax.barh(y + (i - 1.5) * height, [e["criteria"][c] for e in entries], height, label=c, color=COLOURS[c])
    ax.set_yticks(y, [e["family"] for e in entries])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("criterion score (0-1, higher is better)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8, ncols=4, frameon=False)
    return _svg(fig)


def pareto_chart(doc) -> str:
    entries = _scored(doc)
    front = set(doc.get("pareto", []))
    fig = _new_figure((6.5, 4.2))
    ax = fig.subplots()
    for e in entries:
        on = e["family"] in front
        ax.scatter(e["criteria"]["compute"], e["criteria"]["fidelity"], s=80 if on else 40, color="#4d9a6a" if on else "#9aa3b1", edgecolor="black" if e["family"] == doc["recommendation"] else "none", zorder=3)
        ax.annotate(e["family"], (e["criteria"]["compute"], e["criteria"]["fidelity"]), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xlabel("compute score (higher = cheaper)")
    ax.set_ylabel("fidelity")
    ax.set_xlim(-0.05, 1.1)
    ax.grid(alpha=0.3)
    ax.set_title("green: Pareto front over the four criteria; outlined: recommended", fontsize=9)
    return _svg(fig)


def history_chart(doc) -> str | None:
    entries = [e for e in doc["ranking"] if e.get("trials", {}).get("history")]
    if not entries:
        return None
    fig = _new_figure((7.5, 4))
    ax = fig.subplots()
    for e in entries:
        best, xs, ys = None, [], []
        for number, value, _state, _seconds in e["trials"]["history"]:
            if value is not None:
                best = value if best is None else max(best, value)
            if best is not None:
                xs.append(number + 1)
                ys.append(best)
        if xs:
            ax.step(xs, ys, where="post", label=e["family"], marker="o", markersize=3)
    ax.set_xlabel("trial")
    ax.set_ylabel("best validation fidelity so far")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _svg(fig)


def curves_chart(doc) -> str | None:
    """Learning curves: fidelity at the scored checkpoints of each family cut off by its deadline,
    with its forecast (and interval) at the larger budget; the other families' validation score
    per epoch as they report it, scaled to [0, 1], beside it."""
    scored = [e for e in _scored(doc) if e.get("curve")]
    if not scored:
        return None
    fig = _new_figure((10, 4))
    left, right = fig.subplots(1, 2)
    for e in scored:
        curve, fc = e["curve"], e.get("forecast") or {}
        points = curve.get("checkpoints") or []
        if len(points) >= 2:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            label = e["family"] + (" (still speeding up: no forecast)" if fc.get("speeding_up") else "")
            line = left.plot(xs, ys, marker="o", markersize=3, label=label)[0]
            if "interval" in fc:
                # at the training seconds the forecast is for (the family alone with the larger budget)
                x = fc.get("training_s") or xs[-1] * fc["budget_s"] / max(doc.get("budget_s") or 1.0, 1e-9)
                lo, hi = fc["interval"]
                left.errorbar([x], [fc["fidelity"]], yerr=[[fc["fidelity"] - lo], [hi - fc["fidelity"]]], color=line.get_color(), marker="s", capsize=3)
                left.plot([xs[-1], x], [ys[-1], fc["fidelity"]], color=line.get_color(), linestyle=":")
        scores = [v for v in curve.get("validation_score") or [] if v is not None]
        if len(scores) >= 2:
            lo, hi = min(scores), max(scores)
            right.plot(curve["epochs"][: len(scores)], [(v - lo) / (hi - lo) if hi > lo else 1.0 for v in scores], label=f"{e['family']} ({curve.get('stopped_by')})")
    left.set_xscale("log")
    left.set_xlabel("training seconds")
    left.set_ylabel("fidelity (validation rows)")
    left.set_title("checkpoints and the forecast at the larger budget", fontsize=9)
    right.set_xlabel("epoch or iteration")
    right.set_ylabel("validation score, scaled")
    right.set_title("each family's own validation score", fontsize=9)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    return _svg(fig)


def image_grid(rows: dict, shape) -> str:
    import numpy as np

    names = list(rows)
    n = max(len(rows[k]) for k in names)
    fig = _new_figure((1.1 * n, 1.2 * len(names)))
    axes = fig.subplots(len(names), n, squeeze=False)
    for r, name in enumerate(names):
        for c in range(n):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(rows[name]):
                img = np.asarray(rows[name][c], dtype=float)
                ax.imshow(img if img.ndim == 2 else np.clip(img, 0, 1), cmap="gray" if img.ndim == 2 else None)
        axes[r][0].set_title(name, fontsize=9, loc="left")
    return _svg(fig)


def marginals_chart(preview: dict) -> str:
    import numpy as np

    columns = preview["columns"]
    cols = min(3, len(columns))
    rows = (len(columns) + cols - 1) // cols
    fig = _new_figure((3.3 * cols, 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, col in enumerate(columns):
        ax = axes[i // cols][i % cols]
        real = [v for v in preview["real"][col] if v is not None]
        gen = [v for v in preview["generated"][col] if v is not None]
        if real and isinstance(real[0], (int, float)) and (not gen or isinstance(gen[0], (int, float))):
            bins = np.histogram_bin_edges(np.asarray(real + gen, dtype=float), bins=20)
            ax.hist(real, bins=bins, alpha=0.55, density=True, label="real", color="#3b6ea8")
            ax.hist(gen, bins=bins, alpha=0.55, density=True, label="generated", color="#e08a2c")
        else:
            levels = sorted(set(map(str, real)) | set(map(str, gen)))[:12]
            x = np.arange(len(levels))
            ax.bar(x - 0.2, [list(map(str, real)).count(v) / max(len(real), 1) for v in levels], 0.4, label="real", color="#3b6ea8")
            ax.bar(x + 0.2, [list(map(str, gen)).count(v) / max(len(gen), 1) for v in levels], 0.4, label="generated", color="#e08a2c")
            ax.set_xticks(x, levels, rotation=45, fontsize=7, ha="right")
        ax.set_title(col, fontsize=9)
    for j in range(len(columns), rows * cols):
        axes[j // cols][j % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return _svg(fig)


def _ranking_table(doc) -> str:
    head = "<tr><th></th><th>family</th><th>score</th>" + "".join(f"<th>{c}</th>" for c in CRITERIA) + "<th>trials</th><th>status</th></tr>"
    rows = []
    for e in doc["ranking"]:
        c = e.get("criteria") or {}
        best = e["family"] == doc["recommendation"]
        cells = "".join(f'<td class="num">{"-" if c.get(k) is None else f"{c[k]:.3f}"}</td>' for k in CRITERIA)
        score = "-" if e.get("score") is None else f"{e['score']:.3f}"
        status = html.escape(e["status"] + (f": {e['reason']}" if e.get("reason") else ""))
        rows.append(f'<tr class="{"best" if best else ""}"><td>{"★" if best else ""}</td><td>{html.escape(e["family"])}</td><td class="num">{score}</td>{cells}<td class="num">{e["trials"]["total"]}</td><td>{status}</td></tr>')
    return f"<table>{head}{''.join(rows)}</table>"


def _profile_table(profile: dict) -> str:
    head = "<tr><th>column</th><th>kind</th><th>dtype</th><th>missing</th><th>unique</th><th>role</th><th>note</th></tr>"
    rows = []
    for c in profile["columns"][:100]:
        rows.append(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (c["name"], c["kind"], c["dtype"], f"{100 * c['missing']:.1f}%", c["unique"], c["role"], c.get("note") or "")) + "</tr>"
        )
    more = f'<p class="muted">... and {len(profile["columns"]) - 100} more columns</p>' if len(profile["columns"]) > 100 else ""
    return f"<table>{head}{''.join(rows)}</table>{more}"


def render(doc: dict) -> str:
    """The report for a result document (`Recommendation.to_dict()` or a `--json` file)."""
    esc = html.escape
    prof = doc["profile"]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>advisor report: {esc(doc['task'])} · {esc(str(doc['recommendation']))}</title>",
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head><body>",
        f"<h1>advisor · {esc(doc['task'])}</h1>",
        f"<div class='winner'><div class='muted'>recommended family</div><div class='name' id='recommendation'>{esc(str(doc['recommendation']))}</div>",
        "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in doc["rationale"]) + "</ul></div>",
        f"<p class='muted'>target: {esc(str(doc.get('target')))} · budget {doc['budget_s']:g} s · elapsed {doc['elapsed_s']:.1f} s · seed {doc.get('seed')} · "
        f"weights {esc(', '.join(f'{k}={v:g}' for k, v in doc.get('weights', {}).items()))}</p>",
        "<h2>Ranking</h2>",
        _ranking_table(doc),
    ]
    if _scored(doc):
        parts += ["<h2>The four criteria</h2>", _figure(criteria_chart(doc), "Each family's best model, scored on held-out rows.")]
        parts += ["<h2>Pareto front</h2>", _figure(pareto_chart(doc), "Fidelity against compute; the front is computed over all four criteria.")]
    history = history_chart(doc)
    if history:
        parts += ["<h2>Search history</h2>", _figure(history, "Best validation fidelity after each trial, per family.")]
    curves = curves_chart(doc)
    if curves:
        parts += ["<h2>Learning curves</h2>", _figure(curves, "Left: fidelity of the best training run at its checkpoints, for families cut off "
                                                        "by their deadline, and the forecast at the larger budget with its 80 % interval. "
                                                        "Right: how each family's own validation score moved during training.")]
    previews = doc.get("previews") or {}
    if previews.get("kind") == "table":
        parts += ["<h2>Real against generated</h2>", _figure(marginals_chart(previews), "Marginal distributions of held-out real rows and generated rows.")]
    elif previews.get("kind") == "images":
        rows = {k: v for k, v in previews.items() if k not in ("kind", "shape")}
        title = "Real and generated images" if "generated" in rows else "Noisy, denoised and clean images"
        parts += [f"<h2>{title}</h2>", _figure(image_grid(rows, previews["shape"]), title + " (held-out rows).")]
    failed = [e for e in doc["ranking"] if e["status"] in ("failed", "skipped", "unsupported")]
    if failed:
        parts += ["<h2>Families not ranked</h2><ul>"] + [f"<li><b>{esc(e['family'])}</b> ({esc(e['status'])}): {esc(str(e.get('reason') or ''))}</li>" for e in failed] + ["</ul>"]
    shape = f" {'x'.join(map(str, prof['image_shape']))}" if prof.get("image_shape") else ""
    parts += [
        "<h2>Dataset profile</h2>",
        f"<p>{prof['n_rows']:,} rows · {prof['n_features']} features · {esc(prof['modality'])}{shape} · missing {100 * prof['missing_share']:.1f}% · "
        f"intrinsic dimension {prof.get('intrinsic_dim')}</p><p class='muted'>{esc(prof['modality_reason'])}</p>",
        _profile_table(prof),
    ]
    if doc.get("warnings"):
        parts += ["<h2>Warnings</h2><ul>"] + [f"<li>{esc(w)}</li>" for w in doc["warnings"]] + ["</ul>"]
    parts.append(f"<p class='muted'>advisor {esc(str(doc.get('versions', {}).get('advisor')))} · schema {esc(str(doc['schema_version']))}</p></body></html>")
    return "\n".join(parts)


def write_report(doc: dict, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render(doc), encoding="utf-8")
    return path


def read_document(path: str | Path) -> dict:
    from advisor.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such result file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON result document ({type(exc).__name__})") from None
    missing = [k for k in ("task", "recommendation", "ranking", "rationale", "profile", "budget_s", "elapsed_s") if k not in doc]
    if missing:
        raise InputError(f"{path}: not an advisor result (missing {', '.join(missing)})")
    return doc
