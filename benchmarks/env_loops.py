"""Timed loops over the env, its kernels, the batched engine, the naive reference and anchors.

Shared by ``benchmarks.env_throughput``, ``env_memory`` and ``env_profile`` so that every
figure times the same loop. Each loop counts the time inside the env's own calls apart from
the whole loop (sampler included), because the sampler is the benchmark's cost, not the env's.
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

import staghunt_env
from benchmarks.common import load_average
from staghunt_env import BatchedStagHunt, observe, rules

Sampler = Callable[[dict, list], dict]

_LEGAL: dict[bytes, tuple[int, ...]] = {}


def legal_sampler(rng: random.Random) -> Sampler:
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


def uniform_sampler(rng: random.Random, env: Any) -> Sampler:
    """Uniform over Discrete action spaces (the anchors have no masks)."""
    sizes = {a: int(env.action_space(a).n) for a in env.possible_agents}
    rand = rng.random

    def sample(observations: dict, agents: list) -> dict:
        return {a: int(rand() * sizes[a]) for a in agents}

    return sample


@dataclasses.dataclass
class Run:
    """What one timed stretch of a loop did."""

    env_s: float  # time inside the env's own calls
    wall_s: float  # the whole loop, sampler included
    env_steps: int  # joint steps of one game
    agent_steps: int  # live agents stepped
    calls: int  # step() calls
    cpu_s: float = 0.0  # CPU time of this thread over the loop (wall_s minus time descheduled)


class Loop(Protocol):
    """Anything that can be run for a while and say what it did."""

    def run_for(self, seconds: float) -> Run: ...


class ParallelLoop:
    """A PettingZoo parallel env (or the naive baseline) under a sampler; resets as needed."""

    def __init__(self, env: Any, sampler: Sampler, seed: int = 0) -> None:
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

    def __init__(self, env: Any, sampler: Sampler, seed: int = 0) -> None:
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


@dataclasses.dataclass
class Row:
    """The medians of one line over the repeats."""

    name: str
    env_sps: float  # env-steps/s, env time only
    env_asps: float  # agent-steps/s, env time only
    wall_sps: float  # env-steps/s, env + sampler (whole loop)
    wall_asps: float
    us_per_call: float  # env time per step() call
    spread: float  # (max - min) / median of env_sps over the repeats
    cpu_share: float  # median CPU time / wall time of a repeat (< 100%: descheduled)


def measure_all(loops: dict[str, Loop], repeats: int, seconds: float) -> dict[str, Row]:
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
        print(f"  repeat {k + 1}/{repeats} done (load average {load_average()})", flush=True)
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


def anchor_loops() -> dict[str, Loop]:
    """First-party PettingZoo envs as anchors: what a plain PettingZoo step costs here."""
    loops: dict[str, Loop] = {}
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
