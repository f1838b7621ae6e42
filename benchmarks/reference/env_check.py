"""Proof that the naive reference plays the same games as ``staghunt_env``.

A speed ratio against ``NaiveStagHunt`` is honest only if both compute the same thing: from
the same state and the same actions, every observation, mask, reward, termination, truncation
and info must be equal. The benchmark runs this check before timing; the tests run it too.
"""

from __future__ import annotations

import collections
import random

import numpy as np

import staghunt_env
from benchmarks.reference.naive_env import NaiveStagHunt


def check_naive_against_real(
    episodes: int, seed: int = 1234, naive_cls: type[NaiveStagHunt] = NaiveStagHunt
) -> tuple[bool, str]:
    """Same state in, same transitions out: the naive baseline against staghunt_env.

    Three configurations: the default one; a small one (3 players, 5x5, 2 stags, unequal
    strengths, prosocial, a time penalty, end 3 steps after the first catch); and a crowded
    3x3 one without walls where hunters share cells, so that shared hares and stags split by
    strength (zero strengths included) happen. The policy is random legal play that takes a
    legal hunt with probability 0.7, so that catches happen often. ``naive_cls`` lets a test
    check that a naive game with wrong rules is caught. Returns (identical?, what was compared
    or the first difference).
    """
    configs = [
        {},
        {
            "num_players": 3,
            "num_stags": 2,
            "num_hares": 2,
            "grid_size": (5, 5),
            "max_block_components": 2,
            "player_strength": (1.0, 2.0, 0.5),
            "prosocial": True,
            "time_reward": -0.1,
            "end_after_first_hunt": 3,
        },
        {
            "num_players": 4,
            "num_stags": 1,
            "num_hares": 2,
            "grid_size": (3, 3),
            "max_block_components": 0,
            "player_strength": (0.0, 0.0, 1.0, 3.0),
        },
    ]
    rng = random.Random(seed)
    counts: collections.Counter[str] = collections.Counter()
    for cfg_index, cfg in enumerate(configs):
        for ep in range(episodes):
            real = staghunt_env.parallel_env(**cfg)
            naive = naive_cls(**cfg, deepcopy=False)
            obs_r, _ = real.reset(seed=seed + 1000 * cfg_index + ep)
            obs_n = naive.load(real.game_state, real.agents)
            where = f"config {cfg_index}, episode {ep}"
            problem = _compare(where + ", reset", (obs_r,), (obs_n,))
            if problem:
                return False, problem
            while real.agents:
                actions = {}
                for a in real.agents:
                    legal = np.flatnonzero(obs_r[a]["action_mask"])
                    hunts = [x for x in legal if x >= 5]
                    actions[a] = int(
                        hunts[0] if hunts and rng.random() < 0.7 else rng.choice(legal)
                    )
                out_r = real.step(actions)
                out_n = naive.step(actions)
                counts["steps"] += 1
                problem = _compare(f"{where}, t={int(real.game_state.t[0])}", out_r, out_n)
                if problem:
                    return False, problem
                if real.agents != naive.agents:
                    return False, f"{where}: live agents {real.agents} != {naive.agents}"
                obs_r = out_r[0]
                for a in out_r[1]:
                    if out_r[2][a] and actions[a] == 5:
                        counts["stag catches"] += 1
                    elif out_r[2][a] and actions[a] == 6:
                        counts["hare catches"] += 1
                counts["truncations"] += sum(out_r[3].values())
            counts["episodes"] += 1
    detail = ", ".join(f"{v} {k}" for k, v in counts.items())
    return True, f"identical on {detail} ({len(configs)} configurations)"


def _compare(where: str, real: tuple, naive: tuple) -> str | None:
    """The first difference between two (observations, rewards, ...) tuples, or None.

    Infos are compared on the naive's keys only: the real env may report more (what was
    caught), which the original design did not.
    """
    names = ("observations", "rewards", "terminations", "truncations", "infos")
    for name, r, n in zip(names, real, naive):
        if set(r) != set(n):
            return f"{where}: {name} keys {sorted(r)} != {sorted(n)}"
        for a in r:
            if name == "observations":
                for key in ("observation", "action_mask"):
                    if not np.array_equal(r[a][key], n[a][key]):
                        return f"{where}: {name}[{a}][{key}] differs"
            elif name == "rewards":
                if not np.isclose(r[a], n[a], rtol=1e-6, atol=1e-6):
                    return f"{where}: reward of {a} {r[a]} != {n[a]}"
            elif name == "infos":
                if {k: r[a].get(k) for k in n[a]} != n[a]:
                    return f"{where}: infos[{a}] {r[a]!r} != {n[a]!r}"
            elif r[a] != n[a]:
                return f"{where}: {name}[{a}] {r[a]!r} != {n[a]!r}"
    return None
