#!/usr/bin/env python
"""Environment throughput of ``staghunt_env`` on this machine, in one run.

    python benchmarks/env_throughput.py            # the full run recorded in RESULTS.md
    python benchmarks/env_throughput.py --quick    # a short smoke run
    python benchmarks/env_throughput.py --profile  # cProfile: parallel env loop (+ AEC, batched)

Lines measured (4 players, 8x8, default configuration, random LEGAL play sampled from the
action masks):

* ``parallel``: ``staghunt_env.parallel_env()``; ``aec``: ``staghunt_env.env()`` (wrapped);
* ``kernels@B=1``: the two numba calls a parallel-env step makes (``rules.step`` and
  ``observe.observe`` on a batch of one), without the PettingZoo wrapping;
* ``batched@B``: ``BatchedStagHunt(B)`` for B = 1, 64, 1024, 4096, observations and masks
  included (``step()`` returns them); "env" time is ``step()`` alone, "env + sampler" adds the
  vectorized mask sampler (argmax of uniform noise times the mask);
* ``naive``: a BASELINE OF THE ORIGINAL DESIGN written in this file only (``NaiveStagHunt``):
  one Python object per game, per-agent Python loops over lists and dicts, a numpy observation
  built per agent per call, and a ``copy.deepcopy`` of the env state every step (the original
  planner deep-copied envs). It implements the same rules (SPEC section 1) and is checked
  against the real env, transition by transition, before it is timed;
* anchors, first-party PettingZoo envs: ``pettingzoo.classic.rps_v2`` and
  ``mpe2.simple_spread_v3`` (both parallel API, uniform random actions, no masks).

"env" columns count only the time inside the environment's own calls (reset/step, and
``last`` for AEC); "env + sampler" columns are the wall time of the whole loop. An env-step is
one joint step of one game; agent-steps count the live agents stepped. Each figure is the
median of the repeats (each >= ~1 s in the full run), which run round-robin over the lines so
that other processes load every line alike; "spread" is (max - min) / median of the env
figure, "CPU share" the CPU time of this thread over the wall time of a repeat (below 100%:
the benchmark was descheduled, another process was using the cores).
"""

from __future__ import annotations

import argparse
import collections
import copy
import cProfile
import dataclasses
import datetime
import io
import os
import platform
import pstats
import random
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=UserWarning)

import staghunt_env  # noqa: E402
from staghunt_env import BatchedStagHunt, observe, rules  # noqa: E402
from staghunt_env.rules import GameState  # noqa: E402

PLAYERS, GRID = 4, (8, 8)
BATCH_SIZES = (1, 64, 1024, 4096)


# =========================================================================== machine


def machine_line() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        fields = dict(line.split(":", 1) for line in info.splitlines()[:30] if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        cpu = (
            f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')} "
            f"model {fields.get('model', '?')}, {fields.get('cpu MHz', '?')} MHz)"
        )
    except OSError:
        pass
    import gymnasium
    import numba
    import pettingzoo

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {os.cpu_count()} cores ({usable} usable), {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, pettingzoo {pettingzoo.__version__}, "
        f"gymnasium {gymnasium.__version__}"
    )


def load_line() -> str:
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


# =========================================================================== naive baseline

_NAIVE_SHAPES = (  # the same small wall polyominoes as staghunt_env.config.BLOCK_SHAPES
    [[0, 0]],
    [[0, 0], [0, 1]],
    [[0, 0], [1, 0]],
    [[0, 0], [0, 1], [0, 2]],
    [[0, 0], [1, 0], [2, 0]],
    [[0, 0], [1, 0], [1, 1]],
    [[0, 0], [0, 1], [1, 0]],
    [[0, 0], [0, 1], [1, 1]],
    [[0, 1], [1, 0], [1, 1]],
)
_NAIVE_MOVES = [[-1, 0], [1, 0], [0, -1], [0, 1]]


class NaiveStagHunt:
    """BASELINE ONLY, not part of the package: the ORIGINAL design of the game.

    Modelled on the original RLlib 1.x ``MultiAgentEnv`` class ``StagHunt``: one Python object
    per game, positions as lists of ``[row, col]`` lists, per-agent Python loops, reward /
    done dicts, an observation built with numpy per agent per call, and (``deepcopy=True``) a
    ``copy.deepcopy`` of the whole env state at every step, as the original planner
    deep-copied envs before expanding them. The rules are those of SPEC section 1, exactly as
    ``staghunt_env`` implements them (checked by :func:`check_naive_against_real`). It speaks
    the PettingZoo parallel API (separate terminations and truncations) so that it can be
    compared with the real env output for output.
    """

    def __init__(
        self,
        num_players: int = 4,
        num_stags: int = 1,
        num_hares: int = 4,
        grid_size: tuple[int, int] = (8, 8),
        stag_reward: float = 10.0,
        hare_reward: float = 1.0,
        time_reward: float = 0.0,
        max_cycles: int = 35,
        max_block_components: int = 5,
        player_strength: tuple[float, ...] | None = None,
        prosocial: bool = False,
        end_after_first_hunt: int | None = None,
        seed: int | None = None,
        deepcopy: bool = True,
    ) -> None:
        self.num_players, self.num_stags, self.num_hares = num_players, num_stags, num_hares
        self.height, self.width = grid_size
        self.stag_reward, self.hare_reward, self.time_reward = (
            stag_reward,
            hare_reward,
            time_reward,
        )
        self.max_cycles = max_cycles
        self.max_block_components = max_block_components
        self.player_strength = list(player_strength or [1.0] * num_players)
        self.prosocial = prosocial
        self.end_after_first_hunt = end_after_first_hunt
        self.deepcopy = deepcopy
        self.possible_agents = [f"hunter_{i}" for i in range(num_players)]
        self.agent_index = {a: i for i, a in enumerate(self.possible_agents)}
        self.np_random = np.random.RandomState(seed)
        self.agents: list[str] = []
        self.state: dict[str, Any] = {}
        self.saved_state: dict[str, Any] | None = None

    # ------------------------------------------------------------------ reset

    def _connected(self, blocks: list[list[int]]) -> bool:
        free = [
            (r, c) for r in range(self.height) for c in range(self.width) if [r, c] not in blocks
        ]
        if not free:
            return False
        seen = {free[0]}
        queue = collections.deque([free[0]])
        while queue:
            r, c = queue.popleft()
            for dr, dc in _NAIVE_MOVES:
                nr, nc = r + dr, c + dc
                if (
                    0 <= nr < self.height
                    and 0 <= nc < self.width
                    and [nr, nc] not in blocks
                    and (nr, nc) not in seen
                ):
                    seen.add((nr, nc))
                    queue.append((nr, nc))
        return len(seen) == len(free)

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.np_random = np.random.RandomState(seed)
        blocks: list[list[int]] = []
        for _ in range(self.max_block_components):
            for _attempt in range(20):
                shape = _NAIVE_SHAPES[self.np_random.randint(len(_NAIVE_SHAPES))]
                max_dr = max(cell[0] for cell in shape)
                max_dc = max(cell[1] for cell in shape)
                if max_dr >= self.height or max_dc >= self.width:
                    continue
                r0 = self.np_random.randint(self.height - max_dr)
                c0 = self.np_random.randint(self.width - max_dc)
                cells = [[r0 + dr, c0 + dc] for dr, dc in shape]
                if any(cell in blocks for cell in cells):
                    continue
                if self._connected(blocks + cells):
                    blocks = blocks + cells
                    break
        free = [
            [r, c] for r in range(self.height) for c in range(self.width) if [r, c] not in blocks
        ]
        n, s = self.num_players, self.num_stags
        picks = self.np_random.choice(len(free), n + s + self.num_hares, replace=False)
        cells = [list(free[k]) for k in picks]
        self.state = {
            "blocks": blocks,
            "players": cells[:n],
            "alive": [True] * n,
            "stags": cells[n : n + s],
            "stag_alive": [True] * s,
            "hares": cells[n + s :],
            "hare_alive": [True] * self.num_hares,
            "t": 0,
            "first_hunt": -1,
            "over": False,
        }
        self.agents = list(self.possible_agents)
        return {a: self._observe(self.agent_index[a]) for a in self.agents}, {
            a: {"t": 0} for a in self.agents
        }

    def load(self, game: GameState, agents: list[str]) -> None:
        """Start from game 0 of a real engine state (to check both against each other)."""
        self.state = {
            "blocks": [[int(r), int(c)] for r, c in np.argwhere(game.blocks[0])],
            "players": [[int(r), int(c)] for r, c in game.pos[0]],
            "alive": [bool(x) for x in game.alive[0]],
            "stags": [[int(r), int(c)] for r, c in game.stag_pos[0]],
            "stag_alive": [bool(x) for x in game.stag_alive[0]],
            "hares": [[int(r), int(c)] for r, c in game.hare_pos[0]],
            "hare_alive": [bool(x) for x in game.hare_alive[0]],
            "t": int(game.t[0]),
            "first_hunt": int(game.first_hunt[0]),
            "over": bool(game.over[0]),
        }
        self.agents = list(agents)

    # ------------------------------------------------------------------ observation

    def _observe(self, i: int) -> dict[str, np.ndarray]:
        st, n = self.state, self.num_players
        grid = np.zeros((self.height, self.width, n + 3), dtype=np.int8)
        for k in range(n):
            j = (i + k) % n
            if st["alive"][j]:
                r, c = st["players"][j]
                grid[r, c, k] = 1
        for r, c in st["blocks"]:
            grid[r, c, n] = 1
        for k, (r, c) in enumerate(st["stags"]):
            if st["stag_alive"][k]:
                grid[r, c, n + 1] = 1
        for k, (r, c) in enumerate(st["hares"]):
            if st["hare_alive"][k]:
                grid[r, c, n + 2] = 1
        mask = np.zeros(7, dtype=np.int8)
        mask[4] = 1
        if st["alive"][i] and not st["over"]:
            r, c = st["players"][i]
            for a, (dr, dc) in enumerate(_NAIVE_MOVES):
                nr, nc = r + dr, c + dc
                if 0 <= nr < self.height and 0 <= nc < self.width and [nr, nc] not in st["blocks"]:
                    mask[a] = 1
            for k, cell in enumerate(st["stags"]):
                if st["stag_alive"][k] and cell == [r, c]:
                    mask[5] = 1
            for k, cell in enumerate(st["hares"]):
                if st["hare_alive"][k] and cell == [r, c]:
                    mask[6] = 1
        return {"observation": grid, "action_mask": mask}

    # ------------------------------------------------------------------ step

    def step(self, actions: dict[str, int]):
        if self.deepcopy:  # the planner's per-step copy of the env state
            self.saved_state = copy.deepcopy(self.state)
        st = self.state
        acting = list(self.agents)
        if not acting:
            return {}, {}, {}, {}, {}
        rewards = {a: 0.0 for a in acting}
        terminations = {a: False for a in acting}
        truncations = {a: False for a in acting}
        # 1. moves (illegal moves run as STAY)
        for a in acting:
            i, act = self.agent_index[a], int(actions[a])
            if act < 4:
                r, c = st["players"][i]
                nr, nc = r + _NAIVE_MOVES[act][0], c + _NAIVE_MOVES[act][1]
                if 0 <= nr < self.height and 0 <= nc < self.width and [nr, nc] not in st["blocks"]:
                    st["players"][i] = [nr, nc]
        caught = False
        # 2. stags: two or more HUNT_STAG on its cell catch it, split by strength
        for k, cell in enumerate(st["stags"]):
            if not st["stag_alive"][k]:
                continue
            group = [
                a
                for a in acting
                if int(actions[a]) == 5 and st["players"][self.agent_index[a]] == cell
            ]
            if len(group) >= 2:
                st["stag_alive"][k] = False
                caught = True
                total = sum(self.player_strength[self.agent_index[a]] for a in group)
                for a in group:
                    share = (
                        self.player_strength[self.agent_index[a]] / total
                        if total > 0
                        else 1.0 / len(group)
                    )
                    rewards[a] += self.stag_reward * share
                    terminations[a] = True
        # 3. hares: HUNT_HARE on its cell catches it, split equally
        for k, cell in enumerate(st["hares"]):
            if not st["hare_alive"][k]:
                continue
            group = [
                a
                for a in acting
                if int(actions[a]) == 6 and st["players"][self.agent_index[a]] == cell
            ]
            if group:
                st["hare_alive"][k] = False
                caught = True
                for a in group:
                    rewards[a] += self.hare_reward / len(group)
                    terminations[a] = True
        # 5./6. time reward; prosocial: everyone gets the mean of the agents live at the start
        for a in acting:
            rewards[a] += self.time_reward
        if self.prosocial:
            mean = sum(rewards.values()) / len(acting)
            for a in acting:
                rewards[a] = mean
        # 4. catchers leave
        for a in acting:
            if terminations[a]:
                st["alive"][self.agent_index[a]] = False
        remaining = [a for a in acting if not terminations[a]]
        st["t"] += 1
        if caught and st["first_hunt"] < 0:
            st["first_hunt"] = st["t"]
        # 7. the end
        stags_left = sum(st["stag_alive"])
        hares_left = sum(st["hare_alive"])
        catchable = (hares_left > 0 and len(remaining) >= 1) or (
            stags_left > 0 and len(remaining) >= 2
        )
        out_of_time = st["t"] >= self.max_cycles or (
            self.end_after_first_hunt is not None
            and 0 <= st["first_hunt"] <= st["t"] - self.end_after_first_hunt
        )
        if not remaining or not catchable or out_of_time:
            st["over"] = True
            for a in remaining:
                terminations[a] = not catchable
                truncations[a] = catchable
        observations = {a: self._observe(self.agent_index[a]) for a in acting}
        infos = {a: {"t": st["t"]} for a in acting}
        self.agents = [a for a in acting if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos


def check_naive_against_real(episodes: int, seed: int = 1234) -> tuple[bool, str]:
    """Same state in, same transitions out: the naive baseline against staghunt_env.

    Three configurations: the default one; a small one (3 players, 5x5, 2 stags, unequal
    strengths, prosocial, a time penalty, end 3 steps after the first catch); and a crowded
    3x3 one without walls where hunters share cells, so that shared hares and stags split by
    strength (zero strengths included) happen. The policy is random legal play that takes a
    legal hunt with probability 0.7, so that catches happen often.
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
    counts = collections.Counter()
    for cfg_index, cfg in enumerate(configs):
        for ep in range(episodes):
            real = staghunt_env.parallel_env(**cfg)
            naive = NaiveStagHunt(**cfg, deepcopy=False)
            obs_r, _ = real.reset(seed=seed + 1000 * cfg_index + ep)
            naive.load(real.game_state, real.agents)
            obs_n = {a: naive._observe(naive.agent_index[a]) for a in naive.agents}
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
            elif r[a] != n[a]:
                return f"{where}: {name}[{a}] {r[a]!r} != {n[a]!r}"
    return None


# =========================================================================== samplers

_LEGAL: dict[bytes, tuple[int, ...]] = {}


def legal_sampler(rng: random.Random) -> Callable[[dict, list], dict]:
    """Uniform over each live agent's legal actions, read from its action mask."""
    rand = rng.random
    table = _LEGAL

    def sample(observations: dict, agents: list) -> dict:
        actions = {}
        for a in agents:
            mask = observations[a]["action_mask"]
            key = mask.tobytes()
            legal = table.get(key)
            if legal is None:
                legal = table[key] = tuple(int(x) for x in np.flatnonzero(mask))
            actions[a] = legal[int(rand() * len(legal))]
        return actions

    return sample


def uniform_sampler(rng: random.Random, env: Any) -> Callable[[dict, list], dict]:
    """Uniform over Discrete action spaces (the anchors have no masks)."""
    sizes = {a: int(env.action_space(a).n) for a in env.possible_agents}
    rand = rng.random

    def sample(observations: dict, agents: list) -> dict:
        return {a: int(rand() * sizes[a]) for a in agents}

    return sample


# =========================================================================== loops


@dataclasses.dataclass
class Run:
    env_s: float  # time inside the env's own calls
    wall_s: float  # the whole loop, sampler included
    env_steps: int  # joint steps of one game
    agent_steps: int  # live agents stepped
    calls: int  # step() calls
    cpu_s: float = 0.0  # CPU time of this thread over the loop (wall_s minus time descheduled)


class ParallelLoop:
    """A PettingZoo parallel env (or the naive baseline) under a sampler; resets as needed."""

    def __init__(self, env: Any, sampler: Callable, seed: int = 0) -> None:
        self.env, self.sample = env, sampler
        self.obs, _ = env.reset(seed=seed)

    def run_for(self, seconds: float) -> Run:
        env, sample, perf = self.env, self.sample, time.perf_counter
        env_s, steps, agent_steps = 0.0, 0, 0
        obs = self.obs
        start, cpu0 = perf(), time.thread_time()
        while True:
            if not env.agents:
                t0 = perf()
                obs, _ = env.reset()
                env_s += perf() - t0
            actions = sample(obs, env.agents)
            t0 = perf()
            obs = env.step(actions)[0]
            t1 = perf()
            env_s += t1 - t0
            steps += 1
            agent_steps += len(actions)
            if t1 - start >= seconds:
                break
        self.obs = obs
        return Run(env_s, perf() - start, steps, agent_steps, steps, time.thread_time() - cpu0)


class AECLoop:
    """The AEC env: ``last()``/``step()`` per agent; an env-step is one joint resolution."""

    def __init__(self, env: Any, sampler: Callable, seed: int = 0) -> None:
        self.env, self.sample = env, sampler
        env.reset(seed=seed)
        self.last_t = 0

    def run_for(self, seconds: float) -> Run:
        env, perf = self.env, time.perf_counter
        sample = self.sample
        env_s, steps, agent_steps = 0.0, 0, 0
        start, cpu0 = perf(), time.thread_time()
        while True:
            if not env.agents:
                t0 = perf()
                env.reset()
                env_s += perf() - t0
                self.last_t = 0
            t0 = perf()
            agent = env.agent_selection
            obs, _, term, trunc, info = env.last()
            env_s += perf() - t0
            if info["t"] > self.last_t:  # a joint step resolved since the last look
                steps += info["t"] - self.last_t
                self.last_t = info["t"]
            if term or trunc:
                action = None
            else:
                action = sample({agent: obs}, [agent])[agent]
                agent_steps += 1
            t0 = perf()
            env.step(action)
            t1 = perf()
            env_s += t1 - t0
            if t1 - start >= seconds:
                break
        return Run(env_s, perf() - start, steps, agent_steps, steps, time.thread_time() - cpu0)


class KernelLoop:
    """Only the numba calls a parallel-env step makes: rules.step + observe.observe at B=1."""

    def __init__(self, seed: int = 0) -> None:
        self.config = staghunt_env.StagHuntConfig()
        self.rng = np.random.default_rng(seed)
        self.game = rules.initial_state(self.config, self.rng)
        self.actions = np.full((1, self.config.num_players), rules.STAY, dtype=np.int64)
        self.mask = observe.observe(self.game)[1]
        self.pick = random.Random(seed).random

    def run_for(self, seconds: float) -> Run:
        cfg, game, actions, perf = self.config, self.game, self.actions, time.perf_counter
        env_s, steps, agent_steps = 0.0, 0, 0
        start, cpu0 = perf(), time.thread_time()
        while True:
            if game.over[0]:
                t0 = perf()
                rules.reset(cfg, game, self.rng)
                self.mask = observe.observe(game)[1]
                env_s += perf() - t0
            for i in range(cfg.num_players):
                legal = np.flatnonzero(self.mask[0, i])
                actions[0, i] = legal[int(self.pick() * len(legal))]
            live = int(np.count_nonzero(game.alive))
            t0 = perf()
            rules.step(cfg, game, actions, inplace=True)
            self.mask = observe.observe(game)[1]
            t1 = perf()
            env_s += t1 - t0
            steps += 1
            agent_steps += live
            if t1 - start >= seconds:
                break
        return Run(env_s, perf() - start, steps, agent_steps, steps, time.thread_time() - cpu0)


class BatchedLoop:
    """BatchedStagHunt(B) under a vectorized, allocation-free mask sampler."""

    def __init__(self, batch: int, seed: int = 0) -> None:
        self.env = BatchedStagHunt(batch, seed=seed)
        self.batch = batch
        _, self.mask = self.env.reset()
        self.rng = np.random.default_rng(seed + 1)
        self.noise = np.zeros(self.mask.shape, dtype=np.float32)
        self.actions = np.zeros(self.mask.shape[:2], dtype=np.int64)

    def sample(self) -> np.ndarray:
        """argmax of uniform noise times the mask: uniform over the legal actions."""
        self.rng.random(dtype=np.float32, out=self.noise)
        np.multiply(self.noise, self.mask, out=self.noise)
        np.argmax(self.noise, axis=2, out=self.actions)
        return self.actions

    def run_for(self, seconds: float) -> Run:
        env, perf, alive = self.env, time.perf_counter, self.env.state
        env_s, calls, agent_steps = 0.0, 0, 0
        start, cpu0 = perf(), time.thread_time()
        while True:
            agent_steps += int(np.count_nonzero(alive.alive))  # every game is live (auto-reset)
            actions = self.sample()
            t0 = perf()
            self.mask = env.step(actions)[1]
            t1 = perf()
            env_s += t1 - t0
            calls += 1
            alive = env.state
            if t1 - start >= seconds:
                break
        return Run(
            env_s, perf() - start, calls * self.batch, agent_steps, calls, time.thread_time() - cpu0
        )


# =========================================================================== measurement


@dataclasses.dataclass
class Row:
    name: str
    env_sps: float  # env-steps/s, env time only
    env_asps: float  # agent-steps/s, env time only
    wall_sps: float  # env-steps/s, env + sampler (whole loop)
    wall_asps: float
    us_per_call: float  # env time per step() call
    spread: float  # (max - min) / median of env_sps over the repeats
    cpu_share: float  # median CPU time / wall time of a repeat (< 100%: descheduled)


def measure_all(loops: dict[str, Any], repeats: int, seconds: float) -> dict[str, Row]:
    """Warm every loop up, then run the repeats round-robin over the lines.

    Interleaving spreads the load of other processes over all lines alike, so the ratios
    between lines are steadier than the absolute figures on a shared machine.
    """
    for loop in loops.values():
        loop.run_for(min(0.3, seconds))  # warm-up (JIT caches, allocator, branch predictors)
    runs: dict[str, list[Run]] = {name: [] for name in loops}
    for k in range(repeats):
        for name, loop in loops.items():
            runs[name].append(loop.run_for(seconds))
        print(f"  repeat {k + 1}/{repeats} done ({load_line()})", flush=True)
    med = statistics.median
    rows = {}
    for name, rs in runs.items():
        env_sps = [r.env_steps / r.env_s for r in rs]
        rows[name] = Row(
            name=name,
            env_sps=med(env_sps),
            env_asps=med(r.agent_steps / r.env_s for r in rs),
            wall_sps=med(r.env_steps / r.wall_s for r in rs),
            wall_asps=med(r.agent_steps / r.wall_s for r in rs),
            us_per_call=med(r.env_s / r.calls * 1e6 for r in rs),
            spread=(max(env_sps) - min(env_sps)) / med(env_sps),
            cpu_share=med(r.cpu_s / r.wall_s for r in rs),
        )
    return rows


def anchor_loops() -> dict[str, Any]:
    loops: dict[str, Any] = {}
    try:
        from pettingzoo.classic import rps_v2

        env = rps_v2.parallel_env()  # 2 agents, Discrete(3)
        loops["rps_v2 (anchor)"] = ParallelLoop(env, uniform_sampler(random.Random(3), env))
    except ImportError as e:
        print(f"  rps_v2 unavailable: {e}")
    try:
        from mpe2 import simple_spread_v3

        env = simple_spread_v3.parallel_env()  # 3 agents, Discrete(5)
        loops["simple_spread_v3 (anchor)"] = ParallelLoop(
            env, uniform_sampler(random.Random(4), env)
        )
    except ImportError as e:
        print(f"  mpe2 unavailable ({e}); install it with `pip install mpe2`")
    return loops


# =========================================================================== memory, bandwidth


def memory_check(batch: int, steps: int) -> dict[str, Any]:
    """tracemalloc over ``steps`` engine steps after warm-up (numpy reports its buffers to it).

    Tracing starts before the warm-up, so that caches filled lazily on the first steps are in
    the baseline. For every ``step()`` the peak of traced memory above its level just before
    the call is recorded, with the number of games that ended (and were auto-reset) in it.
    """
    loop = BatchedLoop(batch, seed=7)
    # the records are preallocated numpy arrays: writing into them allocates nothing
    peaks = np.zeros(steps, dtype=np.int64)
    sampler_peaks = np.zeros(steps, dtype=np.int64)
    ended = np.zeros(steps, dtype=np.int64)
    level = np.zeros(steps, dtype=np.int64)
    tracemalloc.start()
    for _ in range(100):
        loop.mask = loop.env.step(loop.sample())[1]
    base = tracemalloc.get_traced_memory()[0]
    for k in range(steps):
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        actions = loop.sample()
        sampler_peaks[k] = tracemalloc.get_traced_memory()[1] - before
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        loop.mask = loop.env.step(actions)[1]
        current, peak = tracemalloc.get_traced_memory()
        peaks[k] = peak - before
        level[k] = current
        ended[k] = np.count_nonzero(loop.env.episode_ended)
    tracemalloc.stop()
    net = int(level[-1] - base)
    second_half = int(level[-1] - level[steps // 2 - 1])
    peaks, sampler_peaks, ended = peaks.tolist(), sampler_peaks.tolist(), ended.tolist()
    env = loop.env
    quiet = [p for p, e in zip(peaks, ended) if e == 0]
    per_ended = [p / e for p, e in zip(peaks, ended) if e > 0]
    worst = int(np.argmax(peaks))
    return {
        "batch": batch,
        "steps": steps,
        "net": net,
        "second_half": second_half,
        "peak_median": statistics.median(peaks),
        "peak_max": peaks[worst],
        "ended_at_max": ended[worst],
        "quiet_steps": len(quiet),
        "quiet_peak_max": max(quiet) if quiet else float("nan"),
        "per_ended_median": statistics.median(per_ended) if per_ended else float("nan"),
        "ended_median": statistics.median(ended),
        "ended_max": max(ended),
        "sampler_peak_max": max(sampler_peaks),
        "obs_bytes": env.obs.nbytes,
        "mask_bytes": env.action_mask.nbytes,
        "per_game_obs": env.obs[0].nbytes,
    }


def bandwidth(nbytes: int, repeats: int = 7) -> dict[str, float]:
    """numpy copy and fill rates (bytes written per second) on buffers of ``nbytes``."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    reps = max(1, int(2**28 // nbytes))  # ~256 MiB written per timing
    copies, fills = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(reps):
            np.copyto(dst, src)
        copies.append(nbytes * reps / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(reps):
            dst.fill(0)
        fills.append(nbytes * reps / (time.perf_counter() - t0))
    return {"copy": statistics.median(copies), "fill": statistics.median(fills)}


# =========================================================================== profile


_KERNELS = {"_step_kernel", "_observe_kernel", "_reset_random_kernel", "_grid_kernel"}
_WRAPPERS = {
    ("rules.py", "step"),
    ("rules.py", "reset"),
    ("rules.py", "<dictcomp>"),
    ("rules.py", "select"),
    ("rules.py", "arrays"),
    ("rules.py", "copy"),
    ("rules.py", "batch_size"),
    ("rules.py", "_as_batch_index"),
    ("observe.py", "observe"),
    ("observe.py", "_entity_arrays"),
    ("config.py", "strength"),
}


def _category(filename: str, func: str) -> str:
    base = os.path.basename(filename)
    if func in _KERNELS:
        return "numba kernels (compiled code)"
    if (base, func) in _WRAPPERS:
        return "kernel wrappers + numba dispatch (rules.step/reset, observe.observe, ...)"
    if base == os.path.basename(__file__) or func in {
        "<method 'tobytes' of 'numpy.ndarray' objects>",
        "<method 'random' of '_random.Random' objects>",
        "<method 'get' of 'dict' objects>",
    }:
        return "benchmark loop + sampler (this file)"
    if base in {"parallel.py", "aec.py", "batched.py"}:
        return f"staghunt_env {base} (Python: dicts, checks, bookkeeping)"
    if "pettingzoo" in filename:
        return "pettingzoo wrappers/utils (Python)"
    return "builtins called from the above (numpy, getattr, ...)"


def run_profile(title: str, body: Callable[[], None], top: int) -> None:
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.runcall(body)
    wall = time.perf_counter() - t0
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\n## cProfile: {title} ({wall:.2f} s under the profiler)")
    print("\n".join(stream.getvalue().splitlines()[4:]))
    total = sum(v[2] for v in stats.stats.values())
    groups: collections.Counter = collections.Counter()
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        groups[_category(filename, func)] += tt
    print("self time by category (cProfile adds a fixed cost per Python call, so Python-heavy")
    print("categories are somewhat inflated):")
    for name, tt in groups.most_common():
        print(f"  {tt / total:6.1%}  {name}")


def profile_loops(steps: int, top: int = 22) -> None:
    """cProfile of the parallel env loop, then of the AEC loop and of BatchedStagHunt(4096)."""
    loop = ParallelLoop(staghunt_env.parallel_env(), legal_sampler(random.Random(0)))
    loop.run_for(0.3)

    def parallel_body() -> None:
        env, sample, obs = loop.env, loop.sample, loop.obs
        for _ in range(steps):
            if not env.agents:
                obs, _ = env.reset()
            obs = env.step(sample(obs, env.agents))[0]

    run_profile(f"parallel env, {steps:,} steps with the mask sampler", parallel_body, top)

    aec = staghunt_env.env()
    aec.reset(seed=0)
    sample = legal_sampler(random.Random(1))

    def aec_body() -> None:
        for _ in range(steps):  # agent turns, not env-steps
            if not aec.agents:
                aec.reset()
            obs, _, term, trunc, _ = aec.last()
            agent = aec.agent_selection
            aec.step(None if term or trunc else sample({agent: obs}, [agent])[agent])

    run_profile(f"AEC env, {steps:,} agent turns with the mask sampler", aec_body, 12)

    batched = BatchedLoop(4096)
    batched.run_for(0.3)
    calls = max(20, steps // 60)

    def batched_body() -> None:
        for _ in range(calls):
            batched.mask = batched.env.step(batched.sample())[1]

    run_profile(f"BatchedStagHunt(4096), {calls} step() calls with the sampler", batched_body, 12)


# =========================================================================== report


def fmt(x: float) -> str:
    return f"{x:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the parallel env loop (and AEC, batched)"
    )
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="length of one repeat")
    args = parser.parse_args()

    print(f"# env_throughput  {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {machine_line()}")
    print(f"{load_line()} at start; command: python {' '.join(sys.argv)}")
    if args.profile:
        profile_loops(4000 if args.quick else 40000)
        return
    repeats = args.repeats or (3 if args.quick else 5)
    seconds = args.seconds or (0.2 if args.quick else 1.0)
    print(f"{repeats} repeats of ~{seconds:g} s per line; figures are medians\n")

    ok, detail = check_naive_against_real(episodes=5 if args.quick else 30)
    print(f"naive baseline vs staghunt_env, same state in: {'PASS' if ok else 'FAIL'}: {detail}\n")
    if not ok:
        sys.exit(1)

    print("throughput (4 players, 8x8):")
    loops: dict[str, Any] = {
        "parallel": ParallelLoop(staghunt_env.parallel_env(), legal_sampler(random.Random(0))),
        "aec": AECLoop(staghunt_env.env(), legal_sampler(random.Random(1))),
        "kernels@B=1": KernelLoop(),
    }
    for b in BATCH_SIZES:
        loops[f"batched@{b}"] = BatchedLoop(b)
    loops["naive (original design)"] = ParallelLoop(
        NaiveStagHunt(seed=5), legal_sampler(random.Random(5))
    )
    loops["naive, no deepcopy"] = ParallelLoop(
        NaiveStagHunt(seed=6, deepcopy=False), legal_sampler(random.Random(6))
    )
    loops.update(anchor_loops())
    rows = measure_all(loops, repeats, seconds)

    print(
        "\n| line | env-steps/s | agent-steps/s | env-steps/s (env + sampler) "
        "| agent-steps/s (env + sampler) | µs per step() call | spread | CPU share |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows.values():
        print(
            f"| {row.name} | {fmt(row.env_sps)} | {fmt(row.env_asps)} | {fmt(row.wall_sps)} "
            f"| {fmt(row.wall_asps)} | {row.us_per_call:,.2f} | {row.spread:.0%} "
            f"| {row.cpu_share:.0%} |"
        )

    big, par = rows["batched@4096"], rows["parallel"]
    print("\nratios (env time only; in brackets: env + sampler):")

    def ratio(label: str, a: Row, b: Row) -> float:
        r = a.env_sps / b.env_sps
        print(f"  {label:<34} {r:>10,.1f}x  ({a.wall_sps / b.wall_sps:,.1f}x)")
        return r

    r_batched_par = ratio("batched@4096 / parallel", big, par)
    r_par_rps = (
        ratio("parallel / rps_v2", par, rows["rps_v2 (anchor)"])
        if "rps_v2 (anchor)" in rows
        else None
    )
    if "simple_spread_v3 (anchor)" in rows:
        ratio("parallel / simple_spread_v3", par, rows["simple_spread_v3 (anchor)"])
    ratio("batched@4096 / naive", big, rows["naive (original design)"])
    ratio("parallel / naive", par, rows["naive (original design)"])
    ratio("parallel / naive without deepcopy", par, rows["naive, no deepcopy"])
    ratio("parallel / kernels@B=1", par, rows["kernels@B=1"])

    mem = memory_check(4096, 50 if args.quick else 200)
    obs_b = mem["obs_bytes"]
    print(
        f"\nmemory (tracemalloc, numpy buffers included; BatchedStagHunt({mem['batch']}), "
        f"{mem['steps']} steps after 100 traced warm-up steps):"
    )
    print(
        f"  net growth of traced memory: {mem['net']:+,} B over {mem['steps']} steps "
        f"({mem['second_half']:+,} B over the last {mem['steps'] // 2}); obs buffer {obs_b:,} B, "
        f"mask buffer {mem['mask_bytes']:,} B"
    )
    print(
        f"  transient peak above the pre-step level, per step(): median {mem['peak_median']:,.0f} B"
        f" ({mem['peak_median'] / obs_b:.3%} of the obs buffer); on the {mem['quiet_steps']} "
        f"steps where no game ended: max {mem['quiet_peak_max']:,.0f} B"
    )
    print(
        f"  auto-reset allocates per ended game: median {mem['per_ended_median']:,.0f} B "
        f"(one game's obs is {mem['per_game_obs']:,} B); games ended per step: median "
        f"{mem['ended_median']:g}, max {mem['ended_max']:,}; worst step: {mem['peak_max']:,} B "
        f"({mem['peak_max'] / obs_b:.0%} of the obs buffer) with {mem['ended_at_max']:,} games "
        f"ending at once"
    )
    print(f"  sampler (this file): peak {mem['sampler_peak_max']:,} B per call")

    per_step = mem["obs_bytes"] + mem["mask_bytes"]
    written = per_step * big.env_sps / 4096
    bw_dram = bandwidth(256 * 2**20, repeats=3 if args.quick else 7)
    bw_cache = bandwidth(mem["obs_bytes"], repeats=3 if args.quick else 7)
    print("\nphysical bound (observation + mask bytes written by the engine at B=4096):")
    print(
        f"  {per_step:,} B per step() x {big.env_sps / 4096:,.1f} step()/s = "
        f"{written / 1e9:.2f} GB/s written"
    )
    print(
        f"  numpy on 256 MiB (DRAM): copy {bw_dram['copy'] / 1e9:.1f} GB/s, fill "
        f"{bw_dram['fill'] / 1e9:.1f} GB/s written -> engine at {written / bw_dram['fill']:.1%} "
        f"of the fill rate"
    )
    print(
        f"  numpy on {mem['obs_bytes'] / 2**20:.1f} MiB (obs-buffer size, cache-resident): copy "
        f"{bw_cache['copy'] / 1e9:.1f} GB/s, fill {bw_cache['fill'] / 1e9:.1f} GB/s -> engine at "
        f"{written / bw_cache['fill']:.1%} of the fill rate"
    )

    print("\ntargets:")

    def target(label: str, ok: bool) -> None:
        print(f"  [{'MET' if ok else 'NOT MET'}] {label}")

    target(
        f"batched@4096 >= 1,000,000 env-steps/s with obs and masks: {fmt(big.env_sps)} "
        f"(engine + sampler {fmt(big.wall_sps)})",
        big.env_sps >= 1e6,
    )
    target(f"batched@4096 >= 50x parallel: {r_batched_par:,.1f}x", r_batched_par >= 50)
    target(
        f"parallel >= 20,000 env-steps/s: {fmt(par.env_sps)} (with sampler {fmt(par.wall_sps)})",
        par.env_sps >= 20000,
    )
    if r_par_rps is not None:
        target(f"parallel >= 2x rps_v2 per step: {r_par_rps:.2f}x", r_par_rps >= 2)
    print(f"\n{load_line()} at end")


if __name__ == "__main__":
    main()
