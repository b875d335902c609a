"""River `reco.BiasedMF` / `reco.FunkMF` learning online, one event at a time (prequential peer).

    bench/.venv/bin/python bench/peers/river_mf.py --model biased|funk [--limit N] [--negatives 4]

Learning: `learn_one(user, item, y=1.0)` for every event. With positives only, a squared-loss MF
trained towards 1.0 collapses (every prediction drifts to 1 and the ranking is noise), so, as is
usual when River's rating-style MF is fed implicit feedback, each event also gets `--negatives`
sampled items with `learn_one(user, neg, y=0.0)`. Negatives are drawn uniformly from the item ids
of the last `--negative-pool` events (so popularity-weighted, the same scheme recpipe's own `mf`
uses), skipping the event's item and items the user already bought.

Ranking: ONE numpy product per evaluated event over all known items. The item factors (and item
biases for BiasedMF) are mirrored into a dense matrix straight from the model's internal dicts
(`i_latents`, `i_biases`) after every `learn_one` that touched them; the user's vector is read from
`u_latents`. BiasedMF's global mean and user bias are constant per user and do not change the
order, so the score is `i_bias + <u, v_i>`; FunkMF's is `<u, v_i>`.
"""

from __future__ import annotations

import random
import sys
from typing import Sequence

import numpy as np
from river import optim, reco

from stream import base_args, run, top_k


class RiverMF:
    def __init__(self, kind: str, factors: int, lr: float, l2: float, negatives: int, pool: int, seed: int):
        self.kind = kind
        self.name = f"river-{'biasedmf' if kind == 'biased' else 'funkmf'}"
        init = optim.initializers.Normal(mu=0.0, sigma=0.1, seed=seed)
        if kind == "biased":
            self.m = reco.BiasedMF(
                n_factors=factors,
                bias_optimizer=optim.SGD(lr),
                latent_optimizer=optim.SGD(lr),
                l2_bias=l2,
                l2_latent=l2,
                latent_initializer=init,
                seed=seed,
            )
        elif kind == "funk":
            self.m = reco.FunkMF(n_factors=factors, optimizer=optim.SGD(lr), l2=l2, initializer=init, seed=seed)
        else:
            raise SystemExit(f"unknown --model {kind!r}: biased or funk")
        self.factors = factors
        self.negatives = negatives
        self.rng = random.Random(seed)
        self.ring = [0] * max(1, pool)
        self.ring_n = 0
        self.ring_pos = 0
        self.V = np.zeros((1024, factors), dtype=np.float64)
        self.b = np.zeros(1024, dtype=np.float64)
        self.n = 0
        self.bought: dict[str, set[int]] = {}

    def add_item(self, idx: int) -> None:
        if idx >= self.V.shape[0]:
            cap = self.V.shape[0] * 2
            V = np.zeros((cap, self.factors), dtype=np.float64)
            V[: self.n] = self.V[: self.n]
            b = np.zeros(cap, dtype=np.float64)
            b[: self.n] = self.b[: self.n]
            self.V, self.b = V, b
        self.n = idx + 1
        # an item never learned scores like River would score it: its initial random factors
        self._sync(idx)

    def _sync(self, idx: int) -> None:
        self.V[idx] = self.m.i_latents[idx]
        if self.kind == "biased":
            self.b[idx] = self.m.i_biases[idx]

    def recommend(self, user: str, k: int, bought_idx: Sequence[int]) -> Sequence[int]:
        u = self.m.u_latents[user]
        scores = self.V[: self.n] @ u
        if self.kind == "biased":
            scores += self.b[: self.n]
        return top_k(scores, k, bought_idx).tolist()

    def learn(self, user: str, item_idx: int, ts: int, event_no: int) -> None:
        m = self.m
        m.learn_one(user, item_idx, 1.0)
        self._sync(item_idx)
        ub = self.bought.setdefault(user, set())
        ub.add(item_idx)
        if self.negatives and self.ring_n:
            for _ in range(self.negatives):
                for _try in range(5):
                    j = self.ring[self.rng.randrange(self.ring_n)]
                    if j != item_idx and j not in ub:
                        m.learn_one(user, j, 0.0)
                        self._sync(j)
                        break
        self.ring[self.ring_pos] = item_idx
        self.ring_pos = (self.ring_pos + 1) % len(self.ring)
        self.ring_n = min(self.ring_n + 1, len(self.ring))


def main() -> None:
    p = base_args(__doc__.splitlines()[0])
    p.add_argument("--model", choices=["biased", "funk"], required=True)
    p.add_argument("--factors", type=int, default=32, help="latent factors")
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    p.add_argument("--l2", type=float, default=0.01, help="L2 on latents (and biases)")
    p.add_argument("--negatives", type=int, default=4, help="sampled negatives (y=0) per event")
    p.add_argument("--negative-pool", type=int, default=20_000, help="recent events negatives are drawn from")
    a = p.parse_args()
    model = RiverMF(a.model, a.factors, a.lr, a.l2, a.negatives, a.negative_pool, a.seed)
    run(
        model,
        a,
        {
            "params": {
                "factors": a.factors,
                "lr": a.lr,
                "l2": a.l2,
                "negatives": a.negatives,
                "negative_pool": a.negative_pool,
            }
        },
    )


if __name__ == "__main__":
    sys.exit(main())
