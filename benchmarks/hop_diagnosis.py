"""Why does hop fail against selfish co-players? Ablations of each part, per co-player type.

Every variant of the focal planner is the public ``PlannerAgent`` with options, plus three
switches added by subclassing in ``benchmarks/hop_variants.py`` (``tom_agents`` has no option
for them): no
inter-episode prior (goal counts forgotten after every episode, the paper's "without
long-term"), no intra-episode Bayes update, and leaves valued by scripted rollouts to the end of
the episode instead of the policy-value net. The focal agent sits in seat 0; lineups meet the
same layouts (episode k of match s is laid out from ``default_rng([s, k])``), so differences
are paired by match. Writes ``benchmarks/results/hop_diagnosis.md``.

    tom-selfplay --set out_dir=/tmp/diag/runs --set iterations=150 --name quick150
    python -m benchmarks.hop_diagnosis --checkpoint \
        /tmp/diag/runs/quick150/checkpoints/checkpoint_000150.safetensors
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque

import numpy as np

from benchmarks.hop_variants import Variant, mean_q, planners, run_search
from staghunt_env import BatchedStagHunt, GameState, StagHuntConfig, rules
from staghunt_env.observe import observe
from staghunt_env.spec import HUNT_HARE, MOVES
from tom_agents import make_agent
from tom_agents.runner import Runner
from tom_agents.stats import bootstrap_ci, paired_bootstrap_ci

OUT = "benchmarks/results/hop_diagnosis.md"
DUEL = {"num_players": 2, "num_stags": 1, "num_hares": 2}  # the 2-hunter game
GAMES = {
    "2p 6x6": {**DUEL, "grid_size": [6, 6]},  # 5 wall pieces, 35 steps (the env defaults)
    "2p 4x4 open": {**DUEL, "grid_size": [4, 4], "max_block_components": 0},
    "quick 4p": {"grid_size": [6, 6], "max_block_components": 3, "max_cycles": 20},
}


def play(config, focal, coplayer: str, seeds, episodes: int) -> dict[str, np.ndarray]:
    """K episodes per match, focal (a Variant or a scripted agent's name) in seat 0."""
    if isinstance(focal, Variant):
        first = planners(config, focal, seeds, ARGS.checkpoint)
    else:
        first = [make_agent(focal, config, seed=int(s) + 1000) for s in seeds]
    n = config.num_players
    players = [[a] + [make_agent(coplayer, config, seed=int(s) * n + i) for i in range(1, n)]
               for a, s in zip(first, seeds)]  # fmt: skip
    reward, caught = np.zeros((len(seeds), episodes)), np.zeros((len(seeds), episodes))
    for k in range(episodes):
        games = BatchedStagHunt(len(seeds), seed=k, config=config)
        starts = [rules.initial_state(config, np.random.default_rng([int(s), k])) for s in seeds]
        games.assign(np.arange(len(seeds)), GameState.concatenate(starts))

        def record(ep, k=k):
            reward[ep.game, k], caught[ep.game, k] = ep.returns[0], ep.caught[0]

        Runner(games, players, one_episode=True).run(record)
    return {"reward": reward, "caught": caught}


def fmt(ci) -> str:
    return f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"


def table(title, game, rows, columns, base, seeds, episodes, lines) -> None:
    """Rows (a name or Variant) x co-player columns: reward per episode, and the paired
    difference to ``base``; the caught mix (stag/hare/nothing) beside each reward."""
    config = StagHuntConfig.make(**GAMES[game])
    results = {}
    for row in rows:
        for col in columns:
            t0 = time.perf_counter()
            results[row, col] = play(config, row, col, seeds, episodes)
            print(f"[{game}] {name(row)} vs {col}: {time.perf_counter() - t0:.1f}s",
                  file=sys.stderr, flush=True)  # fmt: skip
    lines += [f"### {title}", "", f"Game `{GAMES[game]}`; {len(seeds)} matches x {episodes} "
              "episodes; focal reward per episode, mean [95% bootstrap over matches]; "
              f"(stag/hare/none %); Δ = paired difference to `{name(base)}`.", ""]  # fmt: skip
    lines.append("| focal | " + " | ".join(f"{c} | Δ" for c in columns) + " |")
    lines.append("|---|" + "---:|---:|" * len(columns))
    for row in rows:
        cells = []
        for col in columns:
            r, c = results[row, col]["reward"], results[row, col]["caught"]
            mix = "/".join(f"{100 * np.mean(c == g):.0f}" for g in (0, 1, -1))
            delta = paired_bootstrap_ci(results[base, col]["reward"].mean(1), r.mean(1))
            cells += [f"{fmt(bootstrap_ci(r.mean(1)))} ({mix})", "" if row == base else fmt(delta)]
        lines.append(f"| {name(row)} | " + " | ".join(cells) + " |")
    if episodes > 1:
        lines += ["", "Episodes 2..K minus episode 1 (does it adapt across episodes?):", "",
                  "| focal | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]  # fmt: skip
        for row in rows:
            rise = [results[row, c]["reward"] for c in columns]
            rise = [fmt(paired_bootstrap_ci(r[:, 0], r[:, 1:].mean(1))) for r in rise]
            lines.append(f"| {name(row)} | " + " | ".join(rise) + " |")
    lines.append("")


def name(row) -> str:
    return row.label if isinstance(row, Variant) else f"`{row}` (scripted)"


def distance_map(blocks: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """BFS steps from every cell to the nearest of ``cells`` (K, 2), around blocks (-1: none)."""
    h, w = blocks.shape
    dist = np.full((h, w), -1)
    dist[cells[:, 0], cells[:, 1]] = 0
    queue = deque(map(tuple, cells))
    while queue:
        r, c = queue.popleft()
        for dr, dc in MOVES:
            nr, nc = r + dr, c + dc
            if 0 <= nr < h and 0 <= nc < w and not blocks[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = dist[r, c] + 1
                queue.append((nr, nc))
    return dist


def probe(title: str, game: str, rows, count: int, lines) -> None:
    """One decision (seat 0) at the start of ``count`` fresh layouts; every tree samples the
    same goal for all co-players. Does the search step towards the nearest hare, by distance?"""
    config = StagHuntConfig.make(**GAMES[game])
    roots = [rules.initial_state(config, np.random.default_rng([9999, i])) for i in range(count)]
    states, n = GameState.concatenate(roots), config.num_players
    steps = {kind: np.zeros((count, 7), dtype=bool) for kind in ("hare", "stag")}
    dist = np.zeros(count, dtype=int)
    for i, s in enumerate(roots):
        r, c = s.pos[0, 0]
        for kind, cells, alive in (("hare", s.hare_pos[0], s.hare_alive[0]),
                                   ("stag", s.stag_pos[0], s.stag_alive[0])):  # fmt: skip
            d = distance_map(s.blocks[0], cells[alive])
            dist[i] = d[r, c] if kind == "hare" else dist[i]
            for a, (dr, dc) in enumerate(MOVES):
                nr, nc = r + dr, c + dc
                inside = 0 <= nr < d.shape[0] and 0 <= nc < d.shape[1]
                steps[kind][i, a] = inside and d[nr, nc] == d[r, c] - 1 >= 0
    bins = [(1, 2), (3, 4), (5, 6), (7, 99)]
    lines += [f"### {title}", "", f"{count} first decisions (seat 0) of fresh `{game}` layouts "
              "(`GAMES` in the script), every tree sampling the goal shown for all co-players. "
              "Per BFS distance d from the focal to the nearest hare: greedy hit rate / softmax(2 "
              "Q) mass on shortest-path steps towards it; then the share of greedy steps towards "
              "the stag, and of *blind* decisions (every legal root Q equal: the search saw no "
              "reward and no value, so hop's softmax is uniform); and, with the focal moved onto a "
              "hare, how often it hunts it (greedy / softmax).", "",
              "| planner | co-player goal | " + " | ".join(f"d {a}-{b}" for a, b in bins)
              + " | greedy to stag | blind | on a hare: P(hunt) |", "|---|---|" + "---:|" * (len(bins) + 3)]  # fmt: skip
    legal = observe(states)[1][:, 0] > 0
    on_hare = states.copy()  # the same layouts with the focal standing on the first hare
    on_hare.pos[:, 0] = on_hare.hare_pos[:, 0]
    on = (on_hare, observe(on_hare)[1][:, 0] > 0)
    for v, goal in rows:
        agent = planners(config, v, [0], ARGS.checkpoint)[0]
        s = agent.options.search  # budget and c_puct of the variant
        goals = np.full((count, s.num_trees, n - 1), goal, dtype=np.int64)
        (q, qm, pi), (_, qm_on, pi_on) = (
            decide(agent, s, roots_, goals, legal_) for roots_, legal_ in ((states, legal), on)
        )
        best = qm.argmax(1)
        hit, mass = steps["hare"][np.arange(count), best], (pi * steps["hare"]).sum(1)
        blind = np.ptp(np.where(legal, q, q.max(1, keepdims=True)), axis=1) < 1e-12
        cells = [f"{hit[b].mean():.2f} / {mass[b].mean():.2f} (n={b.sum()})" if b.any() else "-"
                 for b in ((dist >= lo) & (dist <= hi) for lo, hi in bins)]  # fmt: skip
        cells += [f"{steps['stag'][np.arange(count), best].mean():.2f}", f"{blind.mean():.2f}",
                  f"{np.mean(qm_on.argmax(1) == HUNT_HARE):.2f} / {pi_on[:, HUNT_HARE].mean():.2f}"]  # fmt: skip
        lines.append(f"| {v.label} | {('stag', 'hare')[goal]} | " + " | ".join(cells) + " |")
    lines.append("")


def decide(agent, settings, states, goals, legal):
    """Root Q averaged over the trees, the Q its rule acts on (masked), and softmax(beta Q)."""
    count = states.batch_size
    result = run_search(agent, settings, states, np.zeros(count, dtype=np.int64), goals,
                        np.arange(count, dtype=np.uint64) + 7)  # fmt: skip
    q = result.q.mean(1)
    qm = np.where(legal, q, -np.inf)
    pi = np.exp(agent.options.beta * (qm - qm.max(1, keepdims=True)))
    if agent.rule == "mean_greedy":
        qm = mean_q(result.q, result.visits, legal)
    return q, qm, pi / pi.sum(1, keepdims=True)


def main() -> None:
    start = time.perf_counter()
    q = ARGS.quick
    m, k = (4, 2) if q else (ARGS.matches, ARGS.episodes)
    seeds, count = list(range(m)), 16 if q else ARGS.probe
    base = Variant("hop 2x16 (scripted OM, untrained net)")
    big = [Variant(f"hop {t}x{n}", budget=(t, n)) for t, n in ((5, 200), (2, 800))]
    big = [Variant("hop 5x50", budget=(5, 50)), Variant("hop 2x100", budget=(2, 100))] if q else big
    fix = dict(leaves="rollout", rule="mean_greedy")  # both repairs together
    roll, rollfix = (
        Variant("hop rollout leaves", leaves="rollout"),
        Variant("hop rollout + mean-greedy", **fix),
    )
    explore = Variant("hop rollout + mean-greedy, c_puct 5", c_puct=5.0, **fix)
    duel_rows = [
        "nearest_hare", "nearest_stag", "nearest_prey",
        Variant("mcts 2x16 (uniform OM)", model="uniform"), base,
        Variant("hop greedy (SPEC argmax, first of ties)", greedy=True),
        Variant("hop mean-greedy (W/N, random ties)", rule="mean_greedy"),
        Variant("hop neither prior nor Bayes update", prior=False, intra=False),
        roll, rollfix, explore,
        Variant("hop rollout + mean-greedy, no inter-episode prior", prior=False, **fix),
        Variant("hop rollout + mean-greedy, no Bayes update", intra=False, **fix),
        Variant("hop rollout + mean-greedy, neither", prior=False, intra=False, **fix),
        Variant("hop rollout + mean-greedy, c_puct 5, neither", prior=False, intra=False,
                c_puct=5.0, **fix),
        Variant("mcts rollout + mean-greedy, c_puct 5 (uniform OM)", model="uniform",
                c_puct=5.0, **fix),
    ]  # fmt: skip
    lines = ["# Why hop fails against selfish co-players: a diagnosis", "",
             f"Command: `python -m benchmarks.hop_diagnosis {' '.join(sys.argv[1:])}`", ""]  # fmt: skip
    probe("Decision probe, 2 hunters 6x6", "2p 6x6",
          [(base, 1), *[(b, 1) for b in big], (roll, 1), (rollfix, 1), (explore, 1), (base, 0),
           (roll, 0), (rollfix, 0), (explore, 0)], count, lines)  # fmt: skip
    table("2 hunters, 6x6: partner hunts only hares / only the stag", "2p 6x6", duel_rows,
          ["nearest_hare", "nearest_stag"], base, seeds, k, lines)  # fmt: skip
    table("Search budget, 2 hunters 6x6, hare-only partner", "2p 6x6", [base, *big],
          ["nearest_hare"], base, seeds[: ARGS.budget_matches], 2, lines)  # fmt: skip
    table("2 hunters, 4x4 without walls", "2p 4x4 open", [*duel_rows[:7], rollfix, explore],
          ["nearest_hare", "nearest_stag"], base, seeds, k, lines)  # fmt: skip
    trained = Variant("hop trained (learned OM + trained net)", "learned", "trained")
    tnet = Variant("hop trained net + scripted OM", "scripted", "trained")
    quick_rows = [
        "nearest_hare", "nearest_stag", "nearest_prey", trained,
        Variant("hop trained, greedy", "learned", "trained", greedy=True),
        Variant("hop trained, mean-greedy", "learned", "trained", rule="mean_greedy"),
        Variant("hop trained, no inter-episode prior", "learned", "trained", prior=False),
        Variant("hop trained, no Bayes update", "learned", "trained", intra=False),
        tnet, Variant("hop trained net + scripted OM, neither prior nor Bayes", "scripted",
                      "trained", prior=False, intra=False),
        Variant("hop untrained net + learned OM", "learned"), base,
        Variant("hop rollout + mean-greedy (scripted OM)", **fix), explore,
        Variant("hop rollout + mean-greedy, c_puct 5, neither prior nor Bayes", prior=False,
                intra=False, c_puct=5.0, **fix),
        Variant("mcts 2x16 (uniform OM)", model="uniform"),
    ]  # fmt: skip
    probe("Decision probe, quick game (4 hunters)", "quick 4p",
          [(v, g) for v in (trained, tnet, base, rollfix, explore) for g in (1, 0)], count, lines)  # fmt: skip
    table("Quick game, 1 focal + 3 co-players", "quick 4p", quick_rows,
          ["nearest_hare", "random", "nearest_stag"], trained, seeds, k, lines)  # fmt: skip
    minutes = (time.perf_counter() - start) / 60
    lines.append(f"Run time: {minutes:.1f} min (nice 19, 1 thread, shared 2-core machine).")
    with open(ARGS.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {ARGS.out} in {minutes:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a quick-preset self-play checkpoint")
    parser.add_argument("--matches", type=int, default=24, help="matches per cell")
    parser.add_argument("--episodes", type=int, default=4, help="episodes per match (K)")
    parser.add_argument("--probe", type=int, default=300, help="layouts in the decision probe")
    parser.add_argument("--budget-matches", type=int, default=12, help="in the budget table")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--out", default=OUT, help="where the report goes")
    ARGS = parser.parse_args()
    main()
