"""Why does hop fail against selfish co-players? Ablations of each part, per co-player type.

Every focal planner is the public ``PlannerAgent`` with options (:class:`Variant`): opponent
model, networks (untrained, or the shipped pretrained hop's) and options, e.g. the parts of
``hop_plus`` (``HOP_PLUS``) and the beliefs (``episode_prior``, ``bayes_update``), ablated one by
one. The focal agent sits in seat 0; lineups meet the same layouts (episode k of match s is laid
out from ``default_rng([s, k])``), so differences are paired by match. Needs only a clean clone.
Writes ``benchmarks/results/hop_diagnosis.md``, keeping the prose between its ``<!-- prose -->``.

    nice -n 19 env NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m benchmarks.hop_diagnosis
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.build_pretrained import HOP_PLUS_SEARCH
from benchmarks.common import machine_info
from benchmarks.decision_probe import probe
from staghunt_env import BatchedStagHunt, GameState, StagHuntConfig, rules
from tom_agents import checkpoints, make_agent
from tom_agents.planner import HOP_PLUS, PlannerAgent, PlannerOptions
from tom_agents.pretrained import checkpoint_for
from tom_agents.runner import Runner
from tom_agents.stats import bootstrap_ci, paired_bootstrap_ci

OUT = "benchmarks/results/hop_diagnosis.md"
PROSE = "<!-- prose -->"
DUEL = {"num_players": 2, "num_stags": 1, "num_hares": 2}  # the 2-hunter game
GAMES = {
    "2p 6x6": {**DUEL, "grid_size": [6, 6]},  # 5 wall pieces, 35 steps (the env defaults)
    "2p 4x4 open": {**DUEL, "grid_size": [4, 4], "max_block_components": 0},
    "default": {},  # StagHuntConfig(): 4 hunters, 8x8, 1 stag, 4 hares, 35 steps, 5 wall pieces
}
SCRIPTED = ("nearest_hare", "nearest_stag", "nearest_prey")  # reference focal agents
SHIPPED = {"learned": "hop", "uniform": "mcts"}  # the shipped agent of each opponent model
PARTS = {"greedy": "greedy", "root_value": "mean root value", "leaf_value": "rollouts",
         "tree_value": "mean tree value"}  # fmt: skip  # the parts of HOP_PLUS, by option
SU, LP = ("scripted", "untrained"), ("learned", "pretrained")  # (opponent model, networks)
# how hop_plus plans; each row brings its own opponent model (Variant.model)
PLANNING = {k: v for k, v in HOP_PLUS.items() if k != "opponent_model"}


@dataclasses.dataclass(frozen=True)
class Variant:
    """A focal planner: its opponent model, whose networks, and changes to the planner options."""

    label: str
    model: str = "scripted"  # opponent_model: scripted | learned | uniform
    net: str = "untrained"  # untrained | pretrained (the shipped hop's policy-value net)
    options: tuple = ()  # (name, value) pairs for PlannerOptions; budget 2x16 unless changed

    def agents(self, config, seeds) -> list[PlannerAgent]:
        """One network owner, and a follower (own seat and randomness) per match."""
        owner = network_owner(config, self.model, self.net)
        return [owner.follower(int(s) + 1000, **dict(self.options)) for s in seeds]


def variant(label: str, model: str = "scripted", net: str = "untrained", **options) -> Variant:
    options = {"num_trees": 2, "num_simulations": 16, "learn_opponents": False, **options}
    return Variant(label, model, net, tuple(sorted(options.items())))


@functools.cache
def network_owner(config: StagHuntConfig, model: str, net: str) -> PlannerAgent:
    """Untrained networks, the shipped agent's (``pretrained``, learned or uniform OM), or the
    shipped hop's policy-value net or learned opponent model (its file's state "networks")
    mixed with untrained or scripted parts (default game only)."""
    if net == "pretrained" and model in SHIPPED:
        return make_agent(SHIPPED[model], config, seed=0, device="cpu", pretrained=True)
    if net == "untrained" and model != "learned":
        return PlannerAgent(config, seed=0, device="cpu", opponent_model=model)
    _, state = checkpoints.load(checkpoint_for("hop", StagHuntConfig()), checkpoints.PLANNER)
    shape = {k: state["options"][k] for k in ("channels", "hidden")}
    owner = PlannerAgent(config, seed=0, device="cpu", opponent_model=model, **shape)
    if net == "pretrained":
        owner.networks.policy_value.load_state_dict(state["networks"]["policy_value"])
    if model == "learned":
        for mine, theirs in zip(owner.networks.opponent_nets, state["networks"]["opponents"]):
            mine.load_state_dict(theirs)
    return owner


def play(config, focal, coplayer: str, seeds, episodes: int) -> dict[str, np.ndarray]:
    """K episodes per match, focal (a Variant or a scripted agent's name) in seat 0."""
    if isinstance(focal, Variant):
        first = focal.agents(config, seeds)
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


def game_config(game: str) -> StagHuntConfig:
    return StagHuntConfig.make(**GAMES[game])


def fmt(ci) -> str:
    return f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"


def name(row) -> str:
    return row.label if isinstance(row, Variant) else f"`{row}` (scripted)"


def table(title, game, rows, columns, base, seeds, episodes, lines) -> None:
    """Rows (a name or Variant) x co-player columns: reward per episode, and the paired
    difference to ``base`` (rows marked ‡: to the row they ablate, their label before ‡); the
    caught mix (stag/hare/nothing) beside each reward."""
    config = game_config(game)
    labels = {name(r): r for r in rows}
    refs = {r: labels[name(r).split(" ‡")[0]] if "‡" in name(r) else base for r in rows}
    results = {}
    for row in rows:
        for col in columns:
            t0 = time.perf_counter()
            results[row, col] = play(config, row, col, seeds, episodes)
            print(f"[{game}] {name(row)} vs {col}: {time.perf_counter() - t0:.1f}s",
                  file=sys.stderr, flush=True)  # fmt: skip
    lines += [f"### {title}", "", f"Game `{GAMES[game] or 'StagHuntConfig()'}`; {len(seeds)} "
              f"matches x {episodes} episodes; focal reward per episode, mean [95% bootstrap over "
              f"matches]; (stag/hare/none %); Δ = paired difference to `{name(base)}` (‡: to the "
              "row without ‡, the hop_plus it ablates).", ""]  # fmt: skip
    lines += ["| focal | " + " | ".join(f"{c} | Δ" for c in columns) + " |",
              "|---|" + "---:|---:|" * len(columns)]  # fmt: skip
    for row in rows:
        cells = []
        for col in columns:
            r, c = results[row, col]["reward"], results[row, col]["caught"]
            mix = "/".join(f"{100 * np.mean(c == g):.0f}" for g in (0, 1, -1))
            delta = paired_bootstrap_ci(results[refs[row], col]["reward"].mean(1), r.mean(1))
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


def plus_rows(label: str, model: str, net: str) -> dict[str, Variant]:
    """hop_plus, then its ablations: each of its options back at the SPEC default, all but the
    rollouts, a larger c_puct, and without the inter-episode prior and/or the Bayes update."""
    spec = {key: getattr(PlannerOptions(), key) for key in PLANNING}

    def p(suffix, **o):
        return variant(f"{label}{suffix}", model, net, **{**PLANNING, **o})

    rows = {"all": p("")}
    for key, value in PLANNING.items():
        what = PARTS.get(key, f"{key}={value!r}")
        rows[key] = p(f" ‡ without {what} ({key}={spec[key]!r})", **{key: spec[key]})
    return {**rows, "rollouts only": p(" ‡ rollouts only", **{**spec, "leaf_value": "rollout"}),
            "c_puct 5": p(" ‡ c_puct 5", c_puct=5.0),
            "no prior": p(" ‡ no inter-episode prior", episode_prior=False),
            "no Bayes": p(" ‡ no Bayes update", bayes_update=False),
            "neither": p(" ‡ neither prior nor Bayes", episode_prior=False, bayes_update=False)}  # fmt: skip


def shipped_rows() -> list[Variant]:
    """hop_plus as ``make_agent("hop_plus", pretrained=True)`` plays (the trained hop's net, the
    scripted opponent model, 4 trees x 8), without and with its inter-episode memory."""
    shipped = {**PLANNING, **HOP_PLUS_SEARCH}
    return [variant("hop_plus as shipped", "scripted", "pretrained", **shipped),
            variant("hop_plus as shipped ‡ no inter-episode prior", "scripted", "pretrained",
                    **{**shipped, "episode_prior": False}),
            variant("hop_plus as shipped ‡ without wanderer_counts", "scripted", "pretrained",
                    **{**shipped, "wanderer_counts": False})]  # fmt: skip


def main() -> None:
    start, q = time.perf_counter(), ARGS.quick
    m, k = (4, 2) if q else (ARGS.matches, ARGS.episodes)
    seeds, count, lines = list(range(m)), 16 if q else ARGS.probe, []
    base = variant("hop 2x16 (scripted OM, untrained net)")
    big = [variant(f"hop {t}x{s}", num_trees=t, num_simulations=s)
           for t, s in (((5, 50), (2, 100)) if q else ((5, 200), (2, 800)))]  # fmt: skip
    scripted, plus = list(SCRIPTED), plus_rows("hop_plus", *SU)
    shown = [plus[key] for key in ("rollouts only", "tree_value", "all", "c_puct 5") if key in plus]
    neither = {"episode_prior": False, "bayes_update": False}
    duel = [*scripted, variant("mcts 2x16 (uniform OM)", "uniform"), base,
            variant("hop neither prior nor Bayes update", **neither), *plus.values(),
            variant("mcts + hop_plus options (uniform OM)", "uniform", **PLANNING)]  # fmt: skip
    probed = [
        (base, 1),
        *[(b, 1) for b in big],
        *[(v, g) for g in (1, 0) for v in shown],
        (base, 0),
    ]
    probe("Decision probe, 2 hunters 6x6", "2p 6x6", game_config("2p 6x6"), probed, count, lines)
    pair = ["nearest_hare", "nearest_stag"]
    table("2 hunters, 6x6: partner hunts only hares / only the stag", "2p 6x6", duel, pair,
          base, seeds, k, lines)  # fmt: skip
    table("Search budget, 2 hunters 6x6, hare-only partner", "2p 6x6", [base, *big],
          ["nearest_hare"], base, seeds[: ARGS.budget_matches], 2, lines)  # fmt: skip
    few = [plus[key] for key in ("all", "leaf_value", "tree_value", "c_puct 5") if key in plus]
    table("2 hunters, 4x4 without walls", "2p 4x4 open", [*duel[:5], *few], pair, base, seeds, k,
          lines)  # fmt: skip
    hop = variant("hop (pretrained: learned OM + trained net)", *LP)
    tnet = variant("hop trained net + scripted OM", "scripted", "pretrained")
    pplus = plus_rows("hop_plus (pretrained)", *LP)
    rows = [*scripted, hop, variant("hop greedy (on Q, random ties)", *LP, greedy=True),
            variant("hop neither prior nor Bayes update", *LP, **neither), tnet,
            variant("hop trained net + scripted OM, neither prior nor Bayes", "scripted",
                    "pretrained", **neither), variant("hop untrained net + learned OM", "learned"),
            base, variant("mcts (pretrained, uniform OM)", "uniform", "pretrained"),
            *pplus.values(), *shipped_rows()]  # fmt: skip
    probed = [hop, tnet, base, pplus["all"], pplus.get("tree_value", pplus["c_puct 5"])]
    probed = [(v, g) for v in probed for g in (1, 0)]
    probe("Decision probe, default game (4 hunters)", "default", game_config("default"), probed,
          count, lines)  # fmt: skip
    table("Default game, 1 focal + 3 co-players", "default", rows,
          ["nearest_hare", "nearest_stag", "random"], hop, seeds, k, lines)  # fmt: skip
    write_report(lines, (time.perf_counter() - start) / 60)


def write_report(tables: list[str], minutes: float) -> None:
    """Command, machine and run time, the prose kept from the old report, then the tables."""
    machine = "; ".join(f"{k} {v}" for k, v in machine_info().items())
    command = " ".join(["python -m benchmarks.hop_diagnosis", *sys.argv[1:]])
    prose = f"{PROSE}\n\n(findings go here)\n\n{PROSE}"
    if os.path.exists(ARGS.out):
        found = re.search(f"{PROSE}.*{PROSE}", Path(ARGS.out).read_text(), re.S)
        prose = found.group(0) if found else prose
    head = ["# Why hop fails against selfish co-players: a diagnosis", "", f"Command: `{command}`",
            "", f"Machine (at the end of the run): {machine}.", "",
            f"Run time: {minutes:.1f} min wall.", "", prose, "", "## Tables (written by the script)",
            ""]  # fmt: skip
    Path(ARGS.out).write_text("\n".join(head + tables) + "\n")
    print(f"wrote {ARGS.out} in {minutes:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=24, help="matches per cell")
    parser.add_argument("--episodes", type=int, default=4, help="episodes per match (K)")
    parser.add_argument("--probe", type=int, default=300, help="layouts in the decision probe")
    parser.add_argument("--budget-matches", type=int, default=12, help="in the budget table")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--out", default=OUT, help="where the report goes")
    ARGS = parser.parse_args()
    main()
