"""Plot of the push simulation benchmark (bench/push-sim.sh): per seed, opens per sent push of the
static and the learned policy, and the learned policy's uplift estimate with its 95 % CI against
the simulator's true uplift.

    bench/.venv/bin/python bench/push_sim_plot.py bench/out/push-sim-summary.json out.png
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src: str, png: str) -> None:
    with open(src, encoding="utf-8") as fh:
        last = [line for line in fh if line.startswith("{")][-1]
    data = json.loads(last)
    pts = data["points"]
    seeds = [p["seed"] for p in pts]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2))
    a.plot(seeds, [100 * p["static_opens"] for p in pts], "o-", label="static policy")
    a.plot(seeds, [100 * p["learned_opens"] for p in pts], "o-", label="learned policy")
    a.set_xlabel("seed (20,000 users, 30 days each)")
    a.set_ylabel("opens per sent push, %")
    a.set_ylim(bottom=0)
    a.set_xticks(seeds)
    a.legend()
    a.set_title("Opens per sent push")
    for p in pts:
        covered = p["lo"] <= p["truth"] <= p["hi"]
        b.errorbar(
            p["seed"],
            p["uplift"],
            yerr=[[p["uplift"] - p["lo"]], [p["hi"] - p["uplift"]]],
            fmt="o",
            color="tab:blue" if covered else "tab:red",
            capsize=3,
        )
    b.plot(seeds, [p["truth"] for p in pts], "k_", markersize=14, label="simulator's true uplift")
    b.set_xlabel("seed")
    b.set_ylabel("incremental purchases per eligible user")
    b.set_xticks(seeds)
    b.set_title(f"Learned policy: uplift 95% CI vs truth ({data['covered']}/{data['seeds']} covered)")
    b.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(f"[push-sim] wrote {png}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
