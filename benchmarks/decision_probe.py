"""The decision probe of ``benchmarks.hop_diagnosis``: one search at the start of fresh layouts.

Does the planner step towards the nearest hare (by BFS distance), or towards the stag, when every
tree samples the same goal for all co-players; how often does it see nothing at all (every root
Q equal); does it hunt a hare it stands on?
"""

from __future__ import annotations

import sys
from collections import deque

import numpy as np

from staghunt_env import GameState, StagHuntConfig, rules
from staghunt_env.observe import observe
from staghunt_env.spec import HUNT_HARE, MOVES
from tom_agents.planner.agent import root_values
from tom_agents.planner.stag_hunt_step import search_decisions


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


def probe(title: str, game: str, config: StagHuntConfig, rows, count: int, lines) -> None:
    """One decision (seat 0) at the start of ``count`` fresh layouts of ``config`` (named
    ``game``); every tree samples the same goal for all co-players. Does the search step towards
    the nearest hare, by distance? ``rows``: (variant, goal) pairs, a variant anything with
    ``.label`` and ``.agents(config, seeds)``; the table's lines go to ``lines``."""
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
    lines += [f"### {title}", "", f"{count} first decisions (seat 0) of fresh `{game}` layouts, "
              "every tree sampling the goal shown for all co-players. Per BFS distance d to the "
              "nearest hare: greedy hit rate (argmax of the variant's root value, random ties) / "
              "softmax(2 value) mass on shortest-path steps towards it; the share of greedy steps "
              "towards the stag; *blind* decisions (all legal root Q = W/(1+N) equal: no reward or "
              "value seen); with the focal moved onto a hare, P(hunt) (greedy / softmax).", "",
              "| planner | co-player goal | " + " | ".join(f"d {a}-{b}" for a, b in bins)
              + " | greedy to stag | blind | on a hare: P(hunt) |",
              "|---|---|" + "---:|" * (len(bins) + 3)]  # fmt: skip
    legal = observe(states)[1][:, 0] > 0
    on_hare = states.copy()  # the same layouts with the focal standing on the first hare
    on_hare.pos[:, 0] = on_hare.hare_pos[:, 0]
    on = (on_hare, observe(on_hare)[1][:, 0] > 0)
    rows_ = np.arange(count)
    for v, goal in rows:
        agent = v.agents(config, [0])[0]
        goals = np.full((count, agent.options.num_trees, n - 1), goal, dtype=np.int64)
        (q, best, pi), (_, best_on, pi_on) = (
            decide(agent, config, roots_, goals, legal_) for roots_, legal_ in ((states, legal), on)
        )
        hit, mass = steps["hare"][rows_, best], (pi * steps["hare"]).sum(1)
        blind = np.ptp(np.where(legal, q, q.max(1, keepdims=True)), axis=1) < 1e-12
        cells = [f"{hit[b].mean():.2f} / {mass[b].mean():.2f} (n={b.sum()})" if b.any() else "-"
                 for b in ((dist >= lo) & (dist <= hi) for lo, hi in bins)]  # fmt: skip
        cells += [f"{steps['stag'][rows_, best].mean():.2f}", f"{blind.mean():.2f}",
                  f"{np.mean(best_on == HUNT_HARE):.2f} / {pi_on[:, HUNT_HARE].mean():.2f}"]  # fmt: skip
        lines.append(f"| {v.label} | {('stag', 'hare')[goal]} | " + " | ".join(cells) + " |")
        print(f"[probe {game}] {v.label}, goal {goal}", file=sys.stderr, flush=True)
    lines.append("")


def decide(agent, config, states, goals, legal):
    """Root Q averaged over the trees, the greedy action by the agent's root value (random
    ties), and softmax(beta * root value) over the legal actions: as ``PlannerAgent.finish``."""
    count, o = states.batch_size, agent.options
    result = search_decisions(config, o.search, states, np.zeros(count, dtype=np.int64), goals,
                              np.arange(count, dtype=np.uint64) + 7,
                              agent.networks.evaluate_policy_value, agent.networks.opponents,
                              leaf_value=o.leaf_value)  # fmt: skip
    value = np.stack([root_values(q, v, o.root_value) for q, v in zip(result.q, result.visits)])
    value = np.where(legal, value, -np.inf)
    top, rng = value.max(1, keepdims=True), np.random.default_rng(0)
    best = np.array([rng.choice(np.flatnonzero(row >= m)) for row, m in zip(value, top)])
    pi = np.exp(o.beta * (value - top))
    return result.q.mean(1), best, pi / pi.sum(1, keepdims=True)
