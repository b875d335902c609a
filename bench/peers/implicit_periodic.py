"""`implicit` ALS / BPR retrained from scratch every N events (periodic-batch prequential peer).

    bench/.venv/bin/python bench/peers/implicit_periodic.py --model als|bpr [--retrain-every 20000]
        [--limit N] [--threads 1]

A periodic-batch system: after every `--retrain-every` events (default 20,000) a new model is fitted
from scratch on the whole user x item matrix seen so far (value = number of purchase events of that
user-item pair, i.e. distinct invoices). Between retrains the last fitted model serves: the score of
item i for user u is <user_factors[u], item_factors[i]> (ONE numpy product over the items of the
last fit), excluding the items the user bought (including those bought since that fit).

Fallback (documented, applies to both models): users with no row in the last fitted model (new since
that fit, and everyone before the first fit) get the live popularity list: purchase counts decayed
with a 14-day event-time half-life, the same ranking as recpipe's `popular`. Items that appeared
after the last fit cannot be recommended by the factor model until the next retrain; if fewer than
K items are left after exclusions the list is topped up from the same popularity ranking.

The time of every retrain is inside the measured wall time (the stream waits for it), so events/s
is the end-to-end throughput of train-in-line periodic batch on `--threads` cores.
`--model popular` runs the fallback alone (a cross-check against recpipe's `popular`).
"""

from __future__ import annotations

import os
import sys
import time

_THREADS = "1"
for i, arg in enumerate(sys.argv):
    if arg == "--threads" and i + 1 < len(sys.argv):
        _THREADS = sys.argv[i + 1]
    elif arg.startswith("--threads="):
        _THREADS = arg.split("=", 1)[1]
# implicit wants a single-threaded BLAS (it parallelises itself); set before numpy loads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", _THREADS)

from typing import Sequence  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from stream import base_args, run, top_k  # noqa: E402

DAY_MS = 86_400_000


class DecayedPopularity:
    """Item purchase counts with exponential forgetting in event time (half-life in days).
    Kept in inflated units (weight grows with time) and rescaled when they get large."""

    def __init__(self, half_life_days: float = 14.0) -> None:
        self.half_life = half_life_days * DAY_MS
        self.origin: float | None = None
        self.pop = np.zeros(1024, dtype=np.float64)
        self.n = 0

    def add_item(self, idx: int) -> None:
        if idx >= self.pop.shape[0]:
            grown = np.zeros(self.pop.shape[0] * 2, dtype=np.float64)
            grown[: self.n] = self.pop[: self.n]
            self.pop = grown
        self.n = idx + 1

    def learn(self, item_idx: int, ts: int) -> None:
        if self.origin is None:
            self.origin = ts
        expo = (ts - self.origin) / self.half_life
        if expo > 500:  # rescale before 2**expo overflows
            self.pop[: self.n] *= 2.0 ** (-expo)
            self.origin = ts
            expo = 0.0
        self.pop[item_idx] += 2.0**expo

    def recommend(self, k: int, exclude: Sequence[int]) -> np.ndarray:
        scores = self.pop[: self.n].copy()
        scores[scores <= 0] = -np.inf  # only items with some mass, like recpipe's popular
        return top_k(scores, k, exclude)


class PeriodicImplicit:
    def __init__(self, kind: str, every: int, factors: int, iterations: int, reg: float, lr: float,
                 alpha: float, threads: int, seed: int) -> None:
        self.kind = kind
        self.name = {"als": "implicit-als", "bpr": "implicit-bpr", "popular": "py-popular"}[kind]
        self.every = every
        self.factors = factors
        self.iterations = iterations
        self.reg = reg
        self.lr = lr
        self.alpha = alpha
        self.threads = threads
        self.seed = seed
        self.pop = DecayedPopularity()
        self.user_idx: dict[str, int] = {}
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.n_items = 0
        self.U: np.ndarray | None = None  # user factors of the last fit
        self.V: np.ndarray | None = None  # item factors of the last fit
        self.fit_users = 0
        self.fit_items = 0
        self.retrains = 0
        self.train_seconds = 0.0

    def add_item(self, idx: int) -> None:
        self.pop.add_item(idx)
        self.n_items = idx + 1

    def recommend(self, user: str, k: int, bought_idx: Sequence[int]) -> Sequence[int]:
        u = self.user_idx.get(user)
        if self.U is None or u is None or u >= self.fit_users:
            return self.pop.recommend(k, bought_idx).tolist()
        scores = self.V @ self.U[u]
        excl = [i for i in bought_idx if i < self.fit_items]
        recs = top_k(scores, k, excl).tolist()
        if len(recs) < k:  # top up from popularity (rare: fewer than K unbought items in the fit)
            have = set(recs)
            for i in self.pop.recommend(k + len(recs), bought_idx).tolist():
                if len(recs) == k:
                    break
                if i not in have:
                    recs.append(i)
        return recs

    def learn(self, user: str, item_idx: int, ts: int, event_no: int) -> None:
        u = self.user_idx.get(user)
        if u is None:
            u = self.user_idx[user] = len(self.user_idx)
        self.rows.append(u)
        self.cols.append(item_idx)
        self.pop.learn(item_idx, ts)
        if self.kind != "popular" and (event_no + 1) % self.every == 0:
            self.retrain()

    def retrain(self) -> None:
        import implicit

        t0 = time.perf_counter()
        n_users, n_items = len(self.user_idx), self.n_items
        m = sp.csr_matrix(
            (np.ones(len(self.rows), dtype=np.float32), (np.asarray(self.rows), np.asarray(self.cols))),
            shape=(n_users, n_items),
        )
        m.sum_duplicates()
        if self.kind == "als":
            model = implicit.cpu.als.AlternatingLeastSquares(
                factors=self.factors, regularization=self.reg, alpha=self.alpha,
                iterations=self.iterations, num_threads=self.threads, random_state=self.seed,
            )
        else:
            model = implicit.cpu.bpr.BayesianPersonalizedRanking(
                factors=self.factors, learning_rate=self.lr, regularization=self.reg,
                iterations=self.iterations, num_threads=self.threads, random_state=self.seed,
            )
        model.fit(m, show_progress=False)
        self.U = np.asarray(model.user_factors, dtype=np.float64)
        self.V = np.asarray(model.item_factors, dtype=np.float64)
        self.fit_users, self.fit_items = n_users, n_items
        dt = time.perf_counter() - t0
        self.retrains += 1
        self.train_seconds += dt
        print(f"[{self.name}] retrain {self.retrains}: {n_users} users x {n_items} items, "
              f"{m.nnz} pairs, {dt:.2f} s", file=sys.stderr, flush=True)


def main() -> None:
    p = base_args(__doc__.splitlines()[0])
    p.add_argument("--model", choices=["als", "bpr", "popular"], required=True)
    p.add_argument("--retrain-every", type=int, default=20_000, help="events between full retrains")
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--iterations", type=int, default=None, help="default: ALS 15, BPR 100")
    p.add_argument("--reg", type=float, default=0.01, help="regularization")
    p.add_argument("--lr", type=float, default=0.01, help="BPR learning rate")
    p.add_argument("--alpha", type=float, default=1.0, help="ALS confidence weight of a count")
    p.add_argument("--threads", type=int, default=1, help="implicit's training threads (default 1)")
    a = p.parse_args()
    iterations = a.iterations if a.iterations is not None else (15 if a.model == "als" else 100)
    model = PeriodicImplicit(a.model, a.retrain_every, a.factors, iterations, a.reg, a.lr, a.alpha,
                             a.threads, a.seed)
    params = {"retrain_every": a.retrain_every, "factors": a.factors, "iterations": iterations,
              "reg": a.reg, "threads": a.threads}
    if a.model == "bpr":
        params["lr"] = a.lr
    if a.model == "als":
        params["alpha"] = a.alpha
    if a.model == "popular":
        params = {"half_life_days": 14}
    run(model, a, lambda: {"params": params, "retrains": model.retrains,
                           "train_seconds": round(model.train_seconds, 3)})


if __name__ == "__main__":
    sys.exit(main())
