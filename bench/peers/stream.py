"""Shared harness for the Python peers: the UCI Online Retail stream and the prequential protocol.

Mirrors recpipe exactly so the figures compare with `recpipe replay --eval prequential`:

* CONTRACT §2 (`online-retail`): rows with no CustomerID, cancellations (InvoiceNo starting
  with ``C``) and Quantity <= 0 are filtered; every other row is a purchase with
  user = CustomerID without a trailing ``.0``, item = StockCode, ts = InvoiceDate as UTC,
  event_id = ``InvoiceNo:StockCode``. A repeated event_id is one event (later copies skipped).
  File order is stream order. ``--limit N`` reads N data rows (filtered ones included), the same
  meaning as replay's ``--limit``.
* CONTRACT §3 (prequential, test then train): a purchase is evaluated when its user has an earlier
  event and has not bought the item before; the model is asked for the user's top K excluding
  the items the user bought; hit if the item is in the list, NDCG 1/log2(rank + 2) with rank
  from 0. Then the model learns from the event. Every event is learned from.

A model plugs in with three methods (item ids are dense ints in first-seen order):
  ``add_item(idx)``  a new item appeared (called before learn/recommend sees it)
  ``recommend(user, k, bought_idx) -> sequence of item idx``  best first
  ``learn(user, item_idx, ts_ms, event_no)``  event_no counts unique events from 0
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import resource
import sys
import time
from datetime import datetime, timezone
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

DEFAULT_INPUT = "/work/shared/data/uci-online-retail/online_retail.csv.gz"
SERIES_WINDOW = 5_000  # evaluated events per point of the HR@K time series
PROGRESS_EVERY = 50_000  # unique events between progress lines on stderr


class Model(Protocol):
    name: str

    def add_item(self, idx: int) -> None: ...

    def recommend(self, user: str, k: int, bought_idx: Sequence[int]) -> Sequence[int]: ...

    def learn(self, user: str, item_idx: int, ts: int, event_no: int) -> None: ...


def base_args(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--input", default=DEFAULT_INPUT, help="UCI Online Retail CSV (.csv or .csv.gz)")
    p.add_argument("--limit", type=int, default=None, help="read only the first N data rows")
    p.add_argument("--k", type=int, default=10, help="list length K (default 10)")
    p.add_argument("--seed", type=int, default=42)
    return p


def read_events(path: str, limit: int | None, stats: dict) -> Iterator[tuple[str, str, str, int]]:
    """(event_id, user, item, ts_ms) per unique purchase event, in file order."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    seen: set[str] = set()
    last_date, last_ts = None, 0
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        for row in rows:
            if row and row[0] == "InvoiceNo":
                continue  # header
            if limit is not None and stats["lines"] >= limit:
                break
            stats["lines"] += 1
            row = row + [""] * (7 - len(row))
            invoice, stock, _desc, qty_text, date, _price, customer = row[:7]
            try:
                qty = float(qty_text) if qty_text.strip() else 0.0
            except ValueError:
                qty = math.nan
            if customer.strip() == "" or invoice.startswith("C") or not qty > 0:
                stats["filtered"] += 1
                continue
            user = customer[:-2] if customer.endswith(".0") else customer
            event_id = f"{invoice}:{stock}"
            if event_id in seen:
                stats["duplicates"] += 1
                continue
            seen.add(event_id)
            if date != last_date:
                last_date = date
                dt = datetime.strptime(date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
                last_ts = int(dt.timestamp() * 1000)
            yield event_id, user, stock, last_ts


def top_k(scores: np.ndarray, k: int, exclude: Sequence[int]) -> np.ndarray:
    """Indices of the k highest scores, best first, never an excluded index or a -inf score.
    Ties go to the lower index (the item seen first)."""
    s = scores.astype(np.float64, copy=True)
    if len(exclude):
        s[np.asarray(exclude, dtype=np.int64)] = -np.inf
    n = s.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if n > k:
        part = np.argpartition(-s, k - 1)[:k]
        # stable order: score desc, then index asc
        cand = part[np.lexsort((part, -s[part]))]
        # argpartition may cut a tie at the boundary arbitrarily: include every index tied with the
        # k-th score so the lower-index rule holds exactly
        kth = s[cand[-1]]
        if np.isfinite(kth):
            tied = np.flatnonzero(s == kth)
            if tied.size > 1:
                better = cand[s[cand] > kth]
                cand = np.concatenate([better, np.sort(tied)])[:k]
    else:
        cand = np.lexsort((np.arange(n), -s))[:k]
    return cand[np.isfinite(s[cand])]


class Popularity:
    """Live purchase counts per item (used as the fallback by periodic-batch peers)."""

    def __init__(self) -> None:
        self.counts = np.zeros(1024, dtype=np.float64)
        self.n = 0

    def add_item(self, idx: int) -> None:
        if idx >= self.counts.shape[0]:
            grown = np.zeros(self.counts.shape[0] * 2, dtype=np.float64)
            grown[: self.counts.shape[0]] = self.counts
            self.counts = grown
        self.n = idx + 1

    def learn(self, item_idx: int) -> None:
        self.counts[item_idx] += 1

    def recommend(self, k: int, bought_idx: Sequence[int]) -> np.ndarray:
        return top_k(self.counts[: self.n], k, bought_idx)


def run(model: Model, args: argparse.Namespace, extra: Callable[[], dict] | dict | None = None) -> dict:
    """Streams the file through `model` under the prequential protocol; prints the JSON line."""
    k = args.k
    stats = {"lines": 0, "filtered": 0, "duplicates": 0}
    item_idx: dict[str, int] = {}
    bought: dict[str, set[int]] = {}  # user -> items bought (the user has had an event)
    bought_list: dict[str, list[int]] = {}
    events = evaluated = hits = 0
    dcg = 0.0
    w_eval = w_hits = 0
    series: list[list[float]] = []
    log2 = [1.0 / math.log2(r + 2) for r in range(k)]
    t0 = time.perf_counter()
    last_log = t0

    for _eid, user, item, ts in read_events(args.input, args.limit, stats):
        idx = item_idx.get(item)
        if idx is None:
            idx = len(item_idx)
            item_idx[item] = idx
            model.add_item(idx)
        ubought = bought.get(user)
        if ubought is not None and idx not in ubought:
            recs = model.recommend(user, k, bought_list[user])
            evaluated += 1
            w_eval += 1
            for rank in range(min(k, len(recs))):
                if recs[rank] == idx:
                    hits += 1
                    w_hits += 1
                    dcg += log2[rank]
                    break
            if w_eval == SERIES_WINDOW:
                series.append([ts, round(w_hits / w_eval, 5)])
                w_eval = w_hits = 0
        model.learn(user, idx, ts, events)
        events += 1
        if ubought is None:
            ubought = bought[user] = set()
            bought_list[user] = []
        if idx not in ubought:
            ubought.add(idx)
            bought_list[user].append(idx)
        if events % PROGRESS_EVERY == 0:
            now = time.perf_counter()
            print(
                f"[{model.name}] {events:,} events, {evaluated:,} evaluated, "
                f"HR@{k} {hits / max(evaluated, 1):.4f}, {events / (now - t0):,.0f} ev/s "
                f"(+{now - last_log:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
            last_log = now

    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    out = {
        "model": model.name,
        "events": events,
        "evaluated": evaluated,
        f"hr_at_{k}": round(hits / evaluated, 5) if evaluated else 0.0,
        f"ndcg_at_{k}": round(dcg / evaluated, 5) if evaluated else 0.0,
        "seconds": round(seconds, 3),
        "events_per_s": round(events / seconds) if seconds > 0 else 0,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "series": series,
        "lines": stats["lines"],
        "filtered": stats["filtered"],
        "duplicates": stats["duplicates"],
        "items": len(item_idx),
        "users": len(bought),
        "limit": args.limit,
        "hits": hits,
    }
    if extra:
        out.update(extra() if callable(extra) else extra)
    print(
        f"[{model.name}] done: {events:,} events, {evaluated:,} evaluated, HR@{k} {out[f'hr_at_{k}']}, "
        f"NDCG@{k} {out[f'ndcg_at_{k}']}, {seconds:.1f} s, peak RSS {out['peak_rss_mb']} MB",
        file=sys.stderr,
        flush=True,
    )
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return out
