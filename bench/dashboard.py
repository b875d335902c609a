#!/usr/bin/env python3
"""Draws what a load run of `recpipe run` exposed on /metrics (bench/load.ts samples).

  bench/.venv/bin/python bench/dashboard.py load      SAMPLES.json OUT.png
  bench/.venv/bin/python bench/dashboard.py dashboard SAMPLES.json OUT.png

`load`: the four load-test figures (offered vs processed events/s, consumer lag, end-to-end
latency quantiles, RSS). `dashboard`: the panels of deploy/grafana/dashboards/recpipe.json, each
computed from the scraped samples the way its PromQL computes it (rates over a window, quantiles
interpolated inside histogram buckets), for places where Grafana itself is not available.
"""
import json
import math
import re
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_key(key):
    i = key.find("{")
    if i < 0:
        return key, {}
    return key[:i], dict(LABELS.findall(key[i:]))


class Run:
    def __init__(self, path):
        data = json.load(open(path))
        self.summary = data["summary"]
        self.samples = data["samples"]
        self.t = [s["t"] for s in self.samples]
        # name -> frozenset(labels) -> [value per sample]
        self.series = defaultdict(lambda: defaultdict(lambda: [math.nan] * len(self.samples)))
        for i, s in enumerate(self.samples):
            for key, v in s["metrics"].items():
                name, labels = parse_key(key)
                # JSON has no NaN: the scraper's NaN (an empty gauge) arrives as null.
                self.series[name][frozenset(labels.items())][i] = math.nan if v is None else v

    def grouped(self, name, by=()):
        """sum by (by) (name): {label tuple: [values]}"""
        out = defaultdict(lambda: [0.0] * len(self.t))
        for labels, vals in self.series.get(name, {}).items():
            d = dict(labels)
            if "le" in d and "le" not in by:
                continue
            g = tuple(d.get(b, "") for b in by)
            for i, v in enumerate(vals):
                if not math.isnan(v):
                    out[g][i] += v
        return out

    def rate(self, name, window, by=()):
        out = {}
        for g, vals in self.grouped(name, by).items():
            r = []
            for i, ti in enumerate(self.t):
                j = i
                while j > 0 and ti - self.t[j - 1] <= window:
                    j -= 1
                dt = ti - self.t[j]
                r.append(max(0.0, vals[i] - vals[j]) / dt if dt > 0 else math.nan)
            out[g] = r
        return out

    def quantile(self, q, name, window, by=()):
        """histogram_quantile(q, sum by (le, by) (rate(name_bucket[window])))"""
        rates = self.rate(f"{name}_bucket", window, by=tuple(by) + ("le",))
        groups = defaultdict(list)
        for g, r in rates.items():
            le = g[-1]
            groups[g[:-1]].append((math.inf if le == "+Inf" else float(le), r))
        out = {}
        for g, bks in groups.items():
            bks.sort()
            vals = []
            for i in range(len(self.t)):
                total = bks[-1][1][i]
                if not total or math.isnan(total):
                    vals.append(math.nan)
                    continue
                rank, prev_le, prev_c, res = q * total, 0.0, 0.0, math.nan
                for le, r in bks:
                    c = r[i]
                    if c >= rank:
                        res = prev_le if math.isinf(le) else prev_le + (le - prev_le) * (rank - prev_c) / max(1e-12, c - prev_c)
                        break
                    prev_le, prev_c = le, c
                vals.append(res)
            out[g] = vals
        return out


def label(fmt, by, g):
    s = fmt
    for b, v in zip(by, g):
        s = s.replace("{{" + b + "}}", v)
    return s


def plot_lines(ax, t, groups, fmt, by=(), scale=1.0):
    for g, vals in sorted(groups.items()):
        ax.plot(t, [v * scale for v in vals], label=label(fmt, by, g), linewidth=1.2)


def finish(ax, title, unit=""):
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=7, loc="upper left", ncol=2 if len(handles) > 3 else 1)


def dashboard(run, out):
    t = run.t
    W1, W5 = 60, 60  # the job's panels use 1m/5m; a 10-min run reads better with 1 min throughout
    fig = plt.figure(figsize=(16, 34))
    gs = fig.add_gridspec(8, 4, height_ratios=[0.35] + [1] * 7, hspace=0.4, wspace=0.3, top=0.965, bottom=0.02)

    def last(groups):
        vals = [v for vals in groups.values() for v in vals[-3:] if not math.isnan(v)]
        return vals[-1] if vals else math.nan

    def total(groups):
        n = len(t)
        return {(): [sum(vals[i] for vals in groups.values()) for i in range(n)]}

    stats = [
        ("Events in / s", total(run.rate("recpipe_messages_in_total", W1)), "{:,.0f}"),
        ("Dead letters / s", total(run.rate("recpipe_dead_letters_total", W1)), "{:,.1f}"),
        ("End-to-end p95", run.quantile(0.95, "recpipe_end_to_end_latency_seconds", W5), "{:.3f} s"),
        ("Consumer lag", total(run.grouped("recpipe_consumer_lag")), "{:,.0f}"),
    ]
    for i, (title, groups, fmt) in enumerate(stats):
        ax = fig.add_subplot(gs[0, i])
        ax.axis("off")
        ax.text(0.02, 0.75, title, fontsize=11, transform=ax.transAxes)
        v = last(groups)
        ax.text(0.02, 0.15, "–" if math.isnan(v) else fmt.format(v), fontsize=22, weight="bold", transform=ax.transAxes)

    def panel(row, col, title, unit=""):
        ax = fig.add_subplot(gs[row, col * 2 : col * 2 + 2])
        ax._title, ax._unit = title, unit
        return ax

    ax = panel(1, 0, "Throughput", "per second")
    plot_lines(ax, t, run.rate("recpipe_messages_in_total", W1, ("topic",)), "in {{topic}}", ("topic",))
    plot_lines(ax, t, run.rate("recpipe_events_valid_total", W1), "valid")
    plot_lines(ax, t, run.rate("recpipe_events_duplicate_total", W1), "duplicate")
    plot_lines(ax, t, run.rate("recpipe_recommendations_served_total", W1), "recommendation lists")
    finish(ax, ax._title, ax._unit)

    ax = panel(1, 1, "Dead letters by reason", "per second")
    plot_lines(ax, t, run.rate("recpipe_dead_letters_total", W5, ("reason",)), "{{reason}}", ("reason",))
    finish(ax, ax._title, ax._unit)

    ax = panel(2, 0, "Latency", "seconds")
    for q in (0.5, 0.95, 0.99):
        plot_lines(ax, t, run.quantile(q, "recpipe_end_to_end_latency_seconds", W5), f"end-to-end p{round(q * 100)}")
    plot_lines(ax, t, run.quantile(0.95, "recpipe_processing_latency_seconds", W5), "read→commit p95")
    ax.set_yscale("log")
    finish(ax, ax._title, ax._unit)

    ax = panel(2, 1, "Sink write time p95 by sink", "seconds")
    plot_lines(ax, t, run.quantile(0.95, "recpipe_sink_write_seconds", W5, ("sink",)), "{{sink}}", ("sink",))
    finish(ax, ax._title, ax._unit)

    ax = panel(3, 0, "Sink errors (retried) by sink", "per second")
    groups = run.rate("recpipe_sink_errors_total", W5, ("sink",))
    plot_lines(ax, t, groups, "{{sink}}", ("sink",))
    if not groups:
        ax.plot(t, [0] * len(t), color="grey", linewidth=1)
        ax.text(0.5, 0.5, "no failed writes in this run", ha="center", transform=ax.transAxes, fontsize=9, color="grey")
    finish(ax, ax._title, ax._unit)

    ax = panel(3, 1, "Rows per sink write (avg)", "rows")
    s = run.rate("recpipe_sink_batch_rows_sum", W5, ("sink",))
    c = run.rate("recpipe_sink_batch_rows_count", W5, ("sink",))
    plot_lines(ax, t, {g: [a / b if b else math.nan for a, b in zip(s[g], c.get(g, []))] for g in s}, "{{sink}}", ("sink",))
    finish(ax, ax._title, ax._unit)

    ax = panel(4, 0, "Consumer lag by partition", "messages")
    lag = run.grouped("recpipe_consumer_lag", ("topic", "partition"))
    # Topic names carry the run's unique prefix; the part after it says which stream it is.
    plot_lines(ax, t, {(g[0].rsplit("-", 1)[-1], g[1]): v for g, v in lag.items()}, "{{topic}} {{partition}}", ("topic", "partition"))
    finish(ax, ax._title, ax._unit)

    ax = panel(4, 1, "Backpressure")
    plot_lines(ax, t, run.grouped("recpipe_in_flight_batches"), "batches in flight")
    plot_lines(ax, t, run.rate("recpipe_batches_committed_total", W1), "batches committed / s")
    finish(ax, ax._title, ax._unit)

    ax = panel(5, 0, "Process", "MiB")
    plot_lines(ax, t, run.grouped("recpipe_process_process_resident_memory_bytes"), "resident memory", scale=2**-20)
    plot_lines(ax, t, run.grouped("recpipe_process_nodejs_heap_size_used_bytes"), "heap used", scale=2**-20)
    finish(ax, ax._title, ax._unit)

    ax = panel(5, 1, "Event loop lag", "ms")
    plot_lines(ax, t, run.grouped("recpipe_process_nodejs_eventloop_lag_p99_seconds"), "p99", scale=1000)
    plot_lines(ax, t, run.grouped("recpipe_process_nodejs_eventloop_lag_mean_seconds"), "mean", scale=1000)
    finish(ax, ax._title, ax._unit)

    ax = panel(6, 0, "Dependencies up")
    plot_lines(ax, t, run.grouped("recpipe_dependency_up", ("dependency",)), "{{dependency}}", ("dependency",))
    ax.set_ylim(-0.1, 1.2)
    finish(ax, ax._title, ax._unit)

    ax = panel(6, 1, "Model quality (prequential, sliding window)")
    plot_lines(ax, t, run.grouped("recpipe_model_hit_rate", ("model", "k")), "HR@{{k}} {{model}}", ("model", "k"))
    plot_lines(ax, t, run.grouped("recpipe_model_ndcg", ("model", "k")), "NDCG@{{k}} {{model}}", ("model", "k"))
    finish(ax, ax._title, ax._unit)

    ax = panel(7, 0, "Push decisions by trigger and outcome", "per second")
    groups = run.rate("recpipe_push_decisions_total", W5, ("trigger", "decision"))
    plot_lines(ax, t, groups, "{{trigger}} {{decision}}", ("trigger", "decision"))
    if not groups:
        ax.text(0.5, 0.5, "no push decisions in this run", ha="center", transform=ax.transAxes, fontsize=9, color="grey")
    finish(ax, ax._title, ax._unit)

    ax = panel(7, 1, "Committed offset vs log end", "offset (sum of partitions)")
    plot_lines(ax, t, run.grouped("recpipe_consumer_high_watermark"), "log end (all partitions)")
    plot_lines(ax, t, run.grouped("recpipe_consumer_committed_offset"), "committed")
    finish(ax, ax._title, ax._unit)

    for ax in fig.axes:
        if ax.get_title(loc="left"):
            ax.set_xlabel("seconds since the start of the run", fontsize=8)
    s = run.summary
    fig.suptitle(
        f"recpipe — streaming job (deploy/grafana/dashboards/recpipe.json), from /metrics of a real run: "
        f"{s['rate_offered']:,} events/s offered for {s['minutes']} min"
        + (f", outage {s['outage']}" if s.get("outage") else ""),
        fontsize=13,
        y=0.995,
    )
    fig.savefig(out, dpi=80, bbox_inches="tight")


def load(run, out):
    t = run.t
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    s = run.summary
    produced = [smp["produced"] for smp in run.samples]
    offered = [math.nan] + [(produced[i] - produced[i - 1]) / (t[i] - t[i - 1]) for i in range(1, len(t))]

    def window_rate(name):
        g = run.grouped(name)
        vals = g.get((), [0.0] * len(t))
        return [math.nan] + [(vals[i] - vals[i - 1]) / (t[i] - t[i - 1]) for i in range(1, len(t))]

    ax = axes[0][0]
    ax.plot(t, offered, label="produced (offered)", linewidth=1)
    ax.plot(t, window_rate("recpipe_messages_in_total"), label="consumed by the job", linewidth=1)
    ax.plot(t, window_rate("recpipe_events_valid_total"), label="valid events committed", linewidth=1, alpha=0.8)
    finish(ax, "Events per second", "events/s")

    ax = axes[0][1]
    plot_lines(ax, t, run.grouped("recpipe_consumer_lag", ("partition",)), "lag partition {{partition}}", ("partition",))
    total = run.grouped("recpipe_consumer_lag").get(())
    if total:
        ax.plot(t, total, label="lag total", color="black", linewidth=1.4)
    finish(ax, "Consumer lag (high watermark − committed)", "messages")

    ax = axes[1][0]
    for q in (0.5, 0.99):
        plot_lines(ax, t, run.quantile(q, "recpipe_end_to_end_latency_seconds", 30), f"end-to-end p{round(q * 100)} (30 s windows)")
    plot_lines(ax, t, run.quantile(0.99, "recpipe_processing_latency_seconds", 30), "read→commit p99")
    ax.set_yscale("log")
    finish(ax, "Latency: produce → every store acknowledged", "seconds")

    ax = axes[1][1]
    ax.plot(t, [smp["rssBytes"] / 2**20 for smp in run.samples], label="RSS (/proc)", linewidth=1.2)
    plot_lines(ax, t, run.grouped("recpipe_process_nodejs_heap_size_used_bytes"), "JS heap used", scale=2**-20)
    ax.set_ylim(bottom=0)
    finish(ax, "Memory of the job", "MiB")
    for a in axes.flat:
        a.set_xlabel("seconds since the start", fontsize=8)
    fig.suptitle(
        f"Load test on the local stack: {s['rate_offered']:,} events/s offered for {s['minutes']} min — "
        f"sustained {s['sustained_events_per_s']:,.0f}/s, e2e p99 {s['e2e_p99_s']:.2f} s, "
        f"max lag {s['lag_max']:,}, RSS ≤ {s['rss_mib_max']:.0f} MiB",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("load", "dashboard"):
        sys.exit(__doc__)
    r = Run(sys.argv[2])
    (load if sys.argv[1] == "load" else dashboard)(r, sys.argv[3])
    print(f"wrote {sys.argv[3]}", file=sys.stderr)
