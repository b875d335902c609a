"""Plot HR@10 over stream time for every model of a benchmark run and print the results table.

    bench/.venv/bin/python bench/plot.py [--in bench/out] [--png docs/img/hr-over-time.png]
        [--doc docs/BENCHMARKS.md --png-link img/hr-over-time.png --machine TEXT --command TEXT]

Reads every `*.json` in --in (the last JSON line of each file is one model's result: from
`recpipe replay --eval prequential --json` or from a bench/peers script), draws one line per model
that has a `series` ([[event_ts_ms, rolling_hr], ...] or [{"ts", "hr"}, ...]; windows of 5,000
evaluated events unless the JSON says `series_window`), and prints a
markdown table on stdout. With --doc it also replaces the section
`## Recommenders (prequential, UCI Online Retail)` of that file (up to the next `## ` heading),
creating the file or the section when missing; the other sections are left as they are.

events/s is the same for every row: unique events (after filtering and deduplication) divided by
the run's wall seconds, so recpipe's rows (whose own `events_per_s` counts CSV rows read) and the
peers' rows compare.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from datetime import datetime, timezone

SECTION = "## Recommenders (prequential, UCI Online Retail)"


def load(folder: str) -> list[dict]:
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        last = None
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line.startswith("{"):
                    last = line
        if last is None:
            print(f"[plot] {path}: no JSON line, skipped", file=sys.stderr)
            continue
        try:
            r = json.loads(last)
        except json.JSONDecodeError as err:
            print(f"[plot] {path}: bad JSON ({err}), skipped", file=sys.stderr)
            continue
        r.setdefault("label", r.get("model", os.path.splitext(os.path.basename(path))[0]))
        rows.append(r)
    return rows


def k_of(r: dict) -> int:
    for key in r:
        if key.startswith("hr_at_"):
            return int(key[len("hr_at_"):])
    return 10


def series_points(r: dict) -> list[tuple[datetime, float]]:
    pts = []
    for p in r.get("series") or []:
        if isinstance(p, dict):
            ts, hr = p.get("ts"), p.get("hr", p.get("hr_at_10"))
        else:
            ts, hr = p[0], p[1]
        if ts is None or hr is None:
            continue
        pts.append((datetime.fromtimestamp(ts / 1000, tz=timezone.utc), float(hr)))
    return pts


def unique_events(r: dict) -> int:
    return int(r.get("unique_events", r.get("events", 0)))


def events_per_s(r: dict) -> float:
    s = float(r.get("seconds") or 0)
    return unique_events(r) / s if s > 0 else float(r.get("events_per_s", 0))


def plot(rows: list[dict], png: str, title_note: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    missing = []
    fig, ax = plt.subplots(figsize=(11, 6), dpi=120)
    styles = ["-", "--", "-.", ":"]
    n = 0
    for r in sorted(rows, key=lambda r: -r.get("hr_at_10", 0)):
        pts = series_points(r)
        if not pts:
            missing.append(r["label"])
            continue
        xs, ys = zip(*pts)
        window = r.get("series_window", 5000)
        note = "" if window == 5000 else f", window {window:,}"
        ax.plot(xs, ys, styles[(n // 10) % len(styles)], marker="o", markersize=3, linewidth=1.6,
                label=f"{r['label']} (HR@10 {r.get('hr_at_10', 0):.3f}{note})")
        n += 1
    ax.set_title(f"Prequential HR@10 over stream time, UCI Online Retail{title_note}")
    ax.set_xlabel("event time (InvoiceDate, UTC)")
    ax.set_ylabel("HR@10 over the last 5,000 evaluated purchases")
    locator = mdates.AutoDateLocator(minticks=4, maxticks=14)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(True, alpha=0.3)
    ax.set_ylim(bottom=0)
    if n:
        ax.legend(loc="upper left", fontsize=9, framealpha=0.9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(png) or ".", exist_ok=True)
    fig.savefig(png)
    plt.close(fig)
    return missing


def table(rows: list[dict]) -> str:
    out = [
        "| model | kind | HR@10 | NDCG@10 | evaluated | events/s | peak RSS MB | scope |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in sorted(rows, key=lambda r: -r.get("hr_at_10", 0)):
        rss = r.get("peak_rss_mb")
        scope = "full file" if not r.get("limit") else f"first {int(r['limit']):,} rows"
        out.append(
            f"| {r['label']} | {r.get('kind', '')} | {r.get('hr_at_10', 0):.4f} | {r.get('ndcg_at_10', 0):.4f} "
            f"| {int(r.get('evaluated', 0)):,} | {events_per_s(r):,.0f} | "
            f"{'n/a' if rss is None else f'{rss:,.0f}'} | {scope} |"
        )
    return "\n".join(out)


def update_doc(doc: str, body: str) -> None:
    text = open(doc, encoding="utf-8").read() if os.path.exists(doc) else "# Benchmarks\n"
    lines = text.split("\n")
    start = next((i for i, l in enumerate(lines) if l.strip() == SECTION), None)
    new = [SECTION, ""] + body.rstrip("\n").split("\n") + [""]
    if start is None:
        while lines and lines[-1] == "":
            lines.pop()
        lines += [""] + new
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines = lines[:start] + new + lines[end:]
    with open(doc, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines).rstrip("\n") + "\n")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--in", dest="folder", default="bench/out")
    p.add_argument("--png", default="docs/img/hr-over-time.png")
    p.add_argument("--doc", default=None, help="markdown file whose recommender section to replace")
    p.add_argument("--png-link", default="img/hr-over-time.png", help="image path as linked from --doc")
    p.add_argument("--machine", default="", help="machine description for --doc")
    p.add_argument("--command", default="bash bench/run.sh", help="reproduce command for --doc")
    p.add_argument("--notes", default=None, help="markdown file appended to the --doc section")
    a = p.parse_args()

    rows = load(a.folder)
    if not rows:
        print(f"[plot] no results in {a.folder}", file=sys.stderr)
        return 1
    limits = {r.get("limit") for r in rows}
    note = "" if limits == {None} else " (prefix runs, see scope)"
    missing = plot(rows, a.png, note)
    for m in missing:
        print(f"[plot] {m}: no `series` in its JSON, not drawn", file=sys.stderr)
    print(f"[plot] wrote {a.png}", file=sys.stderr)
    tab = table(rows)
    print(tab)

    if a.doc:
        date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        body = [
            f"Measured {date} on {a.machine or 'this machine'}. Reproduce with `{a.command}` "
            "(builds recpipe, installs the pinned Python peers into `bench/.venv`, runs every model, "
            "redraws the plot and rewrites this section).",
            "",
            tab,
            "",
            f"![HR@10 over stream time per model]({a.png_link})",
            "",
        ]
        refits = [
            f"{r['label']} {r['retrains']} refits took {r['train_seconds']:.1f} s of its {r['seconds']:.1f} s"
            for r in rows if r.get("retrains")
        ]
        if refits:
            body += ["Periodic-batch refit time in this run: " + "; ".join(refits) + ".", ""]
        if missing:
            body += [f"Not in the plot (their JSON has no `series`): {', '.join(missing)}.", ""]
        if a.notes and os.path.exists(a.notes):
            body += [open(a.notes, encoding="utf-8").read().rstrip("\n"), ""]
        update_doc(a.doc, "\n".join(body))
        print(f"[plot] updated section of {a.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
