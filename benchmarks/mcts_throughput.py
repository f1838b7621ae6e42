#!/usr/bin/env python
"""MCTS throughput of the HOP planner (``tom_agents.search``) on this machine, in one run.

    python benchmarks/mcts_throughput.py            # the full run recorded in RESULTS.md
    python benchmarks/mcts_throughput.py --quick    # a short smoke run (fewer simulations)
    python benchmarks/mcts_throughput.py --profile  # cProfile + time breakdown of one B=64 search

What is measured (4 players, 8x8, default configuration; the real ``hop`` agent with its
default, untrained (randomly initialised) learned goal-conditioned opponent model; SPEC budget
of 5 trees x 200 simulations per decision):

* ``search@B``: :func:`tom_agents.search.search` called directly on B decisions at once, as
  ``act_many`` does, with the agent's ``evaluate_policy_value`` and ``opponents``. The
  decisions are the first B of one pool of 256: the games of ``BatchedStagHunt(256, seed=2024)``
  after 4 random legal joint steps, a random live focal player each, random co-player goals.
  (Decisions differ a lot in cost: a simulation that ends in a terminal state, e.g. the focal
  player catching an adjacent hare, needs no network call.)
  simulations/s = B * 5 * 200 / wall time of the whole call; latency = that wall time (every
  decision of the batch finishes together). The first call per B (also a warm-up) is
  instrumented: it records every network call (batch size, shapes) and the time spent in the
  forwards, the tree kernels, the rules engine, etc.; the figures are medians of the clean
  repeats after it. B = 1 is the first 64 decisions of the pool searched one after another,
  each alone (instrumented, then timed once, its forwards replayed once): simulations/s =
  total simulations / total time, latency = the mean per decision (one decision alone would
  say little: their costs differ by up to ~30x).
* memory: one more (untimed) call per B under ``tracemalloc`` (peak of the Python/numpy
  allocations: the forest, observations, ...; torch's own allocator is not seen by it) and the
  process peak RSS (``getrusage``) before and after the B's runs (a high-water mark, so only a
  growth over earlier, smaller B shows).
* ``bound@B`` (a): the network-forward bound. Exactly the network calls of the instrumented
  search (same batch sizes, same order, random inputs of the same shapes and dtypes), through
  the same entry points (``evaluate_policy_value``, ``opponents.probs``: numpy -> torch,
  padding to 8 rows, forward, back to numpy), with no tree and no env; only the calls are
  timed. bound simulations/s = B * 5 * 200 / that time; search/bound = the share of the
  search's speed that the forwards alone would allow.
* ``naive`` (b): a REFERENCE OF THE ORIGINAL DESIGN, written in this file only
  (:class:`NaiveNode`, :func:`naive_search`): Python node objects with dict children, a
  ``copy.deepcopy`` of a PettingZoo ``staghunt_env.parallel_env`` (set to the root via
  ``set_state``) per expanded node, batch-1 network calls (one policy-value call per new leaf,
  one opponent-net call per live co-player per expansion, no cache, as the original MOA planner
  sampled co-player actions), the trees searched one after the other and the decisions one
  after the other; the same PUCT / backup formulas (SPEC section 2). It is checked against
  :func:`tom_agents.search.search` (identical visit counts and root Q) before it is timed. It
  is timed on the B=64 row's 64 decisions, one at a time, each paired with the real search of
  the same decision alone (B=1, interleaved so that both see the same load): the B=1 latency
  goal is the median of these 64 paired ratios. The naive's simulations/s (total simulations /
  total time of the 64) is the comparison for every B: exact for B=64 (the same work), and B
  decisions take B times its mean latency (it is sequential). Its time shares come from
  cProfile on the first 4 decisions (cProfile inflates Python-heavy parts such as deepcopy).
* forward cost per row by batch size (microbenchmark): what batching can gain per sample.

Goals printed at the end: search/bound >= 0.6 and search/naive >= 20x at B >= 64; naive
latency / ours >= 3x at B = 1.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import cProfile
import dataclasses
import datetime
import io
import math
import os
import platform
import pstats
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch

torch.set_num_threads(1)  # a 2-core box shared with other jobs: one thread, comparable runs

import numpy as np  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=UserWarning)

import staghunt_env  # noqa: E402
import tom_agents  # noqa: E402
import tom_agents.search as search_mod  # noqa: E402
from staghunt_env import BatchedStagHunt, GameState, observe  # noqa: E402
from staghunt_env.rules import STAY  # noqa: E402
from tom_agents.padding import padded_forward  # noqa: E402
from tom_agents.search import NUM_ACTIONS, SearchSettings, hash64, stream_uniforms  # noqa: E402

BATCH_SIZES = (1, 16, 64, 256)
QUICK_BATCH_SIZES = (1, 16, 64)
RANDOM_STEPS = 4  # random legal joint steps before the root states are taken
POOL_SEED = 2024  # the decisions: B = 1, 16, 64, 256 take the first B of one pool
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)

GOAL_BOUND = 0.6  # search sims/s / forward-bound sims/s, at B >= 64
GOAL_NAIVE = 20.0  # search sims/s / naive sims/s, at B >= 64
GOAL_LATENCY = 3.0  # naive decision latency / ours, at B = 1


# =========================================================================== machine


def machine_lines() -> list[str]:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import numba

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"machine: {cpu}, {os.cpu_count()} cores ({usable} usable), {platform.system()} "
        f"{platform.release()}",
        f"software: Python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} thread, interop {torch.get_num_interop_threads()}), numpy "
        f"{np.__version__}, numba {numba.__version__}, staghunt_env {staghunt_env.__version__}",
    ]


def load_line() -> str:
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# =========================================================================== the decisions


@dataclasses.dataclass
class Decisions:
    """B decisions: root states, deciding players, co-players' goals per tree, seeds."""

    roots: GameState
    focal: np.ndarray
    goals: np.ndarray
    seeds: np.ndarray

    @property
    def size(self) -> int:
        return len(self.focal)

    def subset(self, index: Any) -> Decisions:
        index = np.atleast_1d(index)
        return Decisions(
            self.roots.select(index), self.focal[index], self.goals[index], self.seeds[index]
        )


def make_decisions(batch: int, seed: int, num_trees: int) -> Decisions:
    """B different seeded games after a few random legal steps; a random live focal player each."""
    env = BatchedStagHunt(batch, seed=seed)
    rng = np.random.default_rng(seed + 1)
    _, mask = env.reset()
    for _ in range(RANDOM_STEPS):
        _, mask, *_ = env.step(np.argmax(rng.random(mask.shape) * mask, axis=-1))
    roots = env.select(np.arange(batch))
    assert not roots.over.any()
    n = env.config.num_players
    focal = np.array([rng.choice(np.flatnonzero(alive)) for alive in roots.alive])
    goals = rng.integers(0, 2, (batch, num_trees, n - 1))
    seeds = rng.integers(0, 2**63, batch).astype(np.uint64)
    return Decisions(roots, focal, goals, seeds)


def run_search(agent, settings: SearchSettings, d: Decisions, policy_value=None, opponents=None):
    return search_mod.search(
        agent.config,
        settings,
        d.roots,
        d.focal,
        d.goals,
        d.seeds,
        policy_value or agent.evaluate_policy_value,
        opponents or agent.opponents,
    )


# =========================================================================== instrumentation


class _OpponentsProxy:
    """Stands for ``agent.opponents`` in the search, its ``probs`` wrapped."""

    def __init__(self, opponents, probs: Callable) -> None:
        self.num_goals = opponents.num_goals
        self.probs = probs


class Timers:
    """Exclusive wall time and call count per category (nested timed calls are not double counted)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[float] = []  # time spent in timed children of each open call

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            self._stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                children = self._stack.pop()
                self.seconds[name] = self.seconds.get(name, 0.0) + dt - children
                self.calls[name] = self.calls.get(name, 0) + 1
                if self._stack:
                    self._stack[-1] += dt

        return timed


@dataclasses.dataclass
class Instrumented:
    """What one instrumented search did: its network calls (argument shapes/dtypes) and times."""

    wall: float
    calls: list[tuple]  # in order: ("pv" | "opp", ((shape, dtype) of grids, t, masks), present)
    timers: Timers

    @property
    def pv_calls(self) -> list[tuple]:
        return [sig for kind, sig, _ in self.calls if kind == "pv"]

    @property
    def opp_calls(self) -> list[tuple]:
        return [sig for kind, sig, _ in self.calls if kind == "opp"]

    @property
    def pv_rows(self) -> int:
        return sum(c[0][0][0] for c in self.pv_calls)

    @property
    def opp_rows(self) -> int:
        return sum(c[0][0][0] for c in self.opp_calls)

    @property
    def forward_seconds(self) -> float:
        return self.timers.seconds.get("policy_value", 0.0) + self.timers.seconds.get(
            "opponents", 0.0
        )


@contextlib.contextmanager
def patched_breakdown(timers: Timers) -> Iterator[None]:
    """Time the search's building blocks by wrapping them where ``tom_agents.search`` looks them up."""
    targets = [
        (search_mod, "_select", "tree kernels (numba)"),
        (search_mod, "_backup", "tree kernels (numba)"),
        (search_mod, "rules_step", "rules engine step (numba)"),
        (search_mod, "observe", "observations (numba)"),
        (search_mod, "stream_uniforms", "random streams (numpy)"),
        (GameState, "select", "state gather/scatter (numpy)"),
        (GameState, "assign", "state gather/scatter (numpy)"),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in targets]
    try:
        for owner, name, label in targets:
            setattr(owner, name, timers.wrap(label, getattr(owner, name)))
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _signature(*arrays: np.ndarray) -> tuple:
    return tuple((np.shape(a), np.asarray(a).dtype.str) for a in arrays)


def instrumented_search(agent, settings: SearchSettings, d: Decisions) -> Instrumented:
    timers = Timers()
    calls: list[tuple] = []
    pv = timers.wrap("policy_value", agent.evaluate_policy_value)
    opp = timers.wrap("opponents", agent.opponents.probs)

    def policy_value(grids, t, masks):
        calls.append(("pv", _signature(grids, t, masks), None))
        return pv(grids, t, masks)

    def probs(grids, t, masks, present=None):
        calls.append(("opp", _signature(grids, t, masks), present))
        return opp(grids, t, masks, present)

    with patched_breakdown(timers):
        t0 = time.perf_counter()
        run_search(agent, settings, d, policy_value, _OpponentsProxy(agent.opponents, probs))
        wall = time.perf_counter() - t0
    return Instrumented(wall, calls, timers)


# =========================================================================== (a) forward bound


def _random_inputs(signature: tuple, rng: np.random.Generator, max_cycles: int) -> tuple:
    (g_shape, g_dtype), (t_shape, t_dtype), (m_shape, m_dtype) = signature
    grids = (rng.random(g_shape) < 0.15).astype(g_dtype)
    t = rng.integers(0, max_cycles, t_shape).astype(t_dtype)
    masks = (rng.random(m_shape) < 0.8) | (np.arange(NUM_ACTIONS) == STAY)
    return grids, t, masks.astype(m_dtype)


def replay_forwards(agent, inst: Instrumented, seed: int = 0) -> float:
    """Seconds spent in exactly the instrumented search's network calls, replayed on random inputs."""
    rng = np.random.default_rng(seed)
    fns = {"pv": agent.evaluate_policy_value, "opp": agent.opponents.probs}
    cache: dict[tuple, tuple] = {}  # inputs per signature, made outside the timed calls
    total = 0.0
    for kind, sig, present in inst.calls:  # the search's own order of calls
        if sig not in cache:
            cache[sig] = _random_inputs(sig, rng, agent.config.max_cycles)
        inputs = cache[sig] if present is None else (*cache[sig], present)  # the same rows
        t0 = time.perf_counter()
        fns[kind](*inputs)
        total += time.perf_counter() - t0
    return total


def per_row_costs(agent, log, seconds: float = 0.3) -> None:
    """Cost per row of one network forward by batch size: what batching can gain per sample."""
    rng = np.random.default_rng(0)
    h, w = agent.config.grid_size
    c = agent.config.num_channels
    nets = NaiveNets(agent)

    def best_of(fn, rows: int) -> float:
        fn()
        n = max(3, int(seconds / 5 / max(rows * 60e-6, 2e-4)))
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times.append((time.perf_counter() - t0) / n)
        return min(times) / rows * 1e6

    grid = (rng.random((h, w, c)) < 0.15).astype(np.int8)
    mask = np.ones(NUM_ACTIONS, dtype=np.int8)
    cells = [
        f"batch 1 plain module (naive): PV {best_of(lambda: nets.policy_value(grid, 3, mask), 1):.0f}"
        f", opponent net {best_of(lambda: nets.opponent(0, grid, 3, mask), 1):.0f}"
    ]
    for rows in (5, 64, 300, 1280):
        g = (rng.random((rows, h, w, c)) < 0.15).astype(np.int8)
        t = np.full(rows, 3, dtype=np.int32)
        m = np.ones((rows, NUM_ACTIONS), dtype=np.int8)
        pv = best_of(lambda g=g, t=t, m=m: agent.evaluate_policy_value(g, t, m), rows)
        k = agent.num_coplayers  # one row per co-player net: cost per net-row
        gk, mk = np.repeat(g[:, None], k, axis=1), np.repeat(m[:, None], k, axis=1)
        opp = best_of(lambda gk=gk, t=t, mk=mk: agent.opponents.probs(gk, t, mk), rows * k)
        cells.append(
            f"batch {rows}{' (padded to 8)' if rows < 8 else ''}: PV {pv:.0f}, opp. {opp:.0f}"
        )
    log("forward cost per row (opponents: per row of one co-player net), microseconds, best of 5:")
    log("  " + "; ".join(cells))


# =========================================================================== (b) naive reference


class NaiveNode:
    """REFERENCE OF THE ORIGINAL DESIGN (benchmark only): one Python object per tree node.

    ``env`` is this node's own deep copy of a PettingZoo env; ``children`` a dict action ->
    node; the edge into this node keeps its visit count ``n``, value sum ``w`` and the focal
    agent's reward ``r``.
    """

    __slots__ = ("children", "env", "legal", "n", "obs", "prior", "r", "terminal", "w")

    def __init__(self, env, obs: dict, terminal: bool, reward: float = 0.0) -> None:
        self.env = env
        self.obs = obs
        self.terminal = terminal
        self.children: dict[int, NaiveNode] = {}
        self.prior: np.ndarray | None = None
        self.legal: np.ndarray | None = None
        self.n = 0
        self.w = 0.0
        self.r = reward


class NaiveNets:
    """Batch-1 network calls, as the original planner made them.

    ``padded=False`` (timed): the plain module on a batch of one. ``padded=True`` (only for the
    equivalence check): through ``padded_forward``, whose rows are bit-identical to the batched
    search's.
    """

    def __init__(self, agent, padded: bool = False) -> None:
        self.pv = agent.policy_value
        self.opp = agent.opponents.nets
        self.padded = padded
        self.calls = {"pv": 0, "opp": 0}

    def _call(self, module, grid, t, mask):
        args = (
            torch.from_numpy(np.ascontiguousarray(grid)[None]),
            torch.from_numpy(np.array([t], dtype=np.int32)),
            torch.from_numpy(np.ascontiguousarray(mask)[None]),
        )
        return padded_forward(module, *args) if self.padded else module(*args)

    @torch.inference_mode()
    def policy_value(self, grid, t, mask) -> tuple[np.ndarray, float]:
        self.calls["pv"] += 1
        log_pi, v = self._call(self.pv, grid, t, mask)
        return log_pi.exp().double().numpy()[0], float(v.double()[0])

    @torch.inference_mode()
    def opponent(self, k: int, grid, t, mask) -> np.ndarray:
        """(G, 7) action probabilities of co-player seat k (0-based) under each goal."""
        self.calls["opp"] += 1
        return self._call(self.opp[k], grid, t, mask).exp()[0].numpy().astype(np.float64)


def naive_root_env(config, roots: GameState, i: int):
    """A PettingZoo parallel env set to root state i via ``set_state``, and its observations."""
    env = staghunt_env.parallel_env(**config.to_dict())
    env.reset(seed=0)
    game = roots.select([i])
    live = [] if game.over[0] else [f"hunter_{j}" for j in np.flatnonzero(game.alive[0])]
    env.set_state(
        {
            "format": staghunt_env.parallel.SNAPSHOT_FORMAT,
            "config": config.to_dict(),
            "game": {k: v.copy() for k, v in game.arrays().items()},
            "agents": live,
            "rng": None,
        }
    )
    obs, mask = observe.observe(env.game_state)  # the env's own observation function
    return env, {
        a: {"observation": obs[0, int(a[7:])], "action_mask": mask[0, int(a[7:])]} for a in live
    }


def naive_search(
    config, settings: SearchSettings, root_env, root_obs: dict, focal: int, goals, seed, nets
):
    """REFERENCE OF THE ORIGINAL DESIGN: one decision, trees one after the other, node objects.

    Same PUCT (Q = W / (1 + N), c_puct, parent count 1 + sum of the children's), same backup
    (discounted by gamma per level, rewards on the path added) and the same co-player sampling
    streams as :func:`tom_agents.search.search`, so that the two can be checked against each
    other. Returns the root (Q, visits), each (trees, 7).
    """
    n = config.num_players
    me = f"hunter_{focal}"
    trees = np.arange(settings.num_trees, dtype=np.uint64)
    tree_seeds = hash64(np.full(settings.num_trees, seed, dtype=np.uint64) * _GOLDEN + trees)
    q = np.zeros((settings.num_trees, NUM_ACTIONS))
    visits = np.zeros((settings.num_trees, NUM_ACTIONS), dtype=np.int64)
    for tree in range(settings.num_trees):
        root = NaiveNode(copy.deepcopy(root_env), root_obs, terminal=me not in root_env.agents)
        t0 = int(root_env.game_state.t[0])
        value = _naive_evaluate(root, me, t0, nets)
        for sim in range(settings.num_simulations):
            # selection
            node, path = root, []
            action = -1
            while not node.terminal:
                n_node = 1 + sum(c.n for c in node.children.values())
                sq = math.sqrt(n_node)
                best, best_a = -math.inf, -1
                for a in range(NUM_ACTIONS):
                    if node.legal[a]:
                        child = node.children.get(a)
                        cn, cw = (child.n, child.w) if child is not None else (0, 0.0)
                        score = cw / (1 + cn) + settings.c_puct * node.prior[a] * sq / (1 + cn)
                        if score > best:
                            best, best_a = score, a
                child = node.children.get(best_a)
                if child is None:
                    action = best_a
                    break
                path.append(child)
                node = child
            # expansion: deepcopy the parent's env, sample the co-players, step, evaluate
            value = 0.0
            if action >= 0:
                uniforms = stream_uniforms(tree_seeds[tree : tree + 1], sim, n - 1)[0]
                env = copy.deepcopy(node.env)
                t = int(env.game_state.t[0])
                joint = {me: action}
                for k in range(1, n):
                    name = f"hunter_{(focal + k) % n}"
                    if name not in env.agents:
                        continue
                    o = node.obs[name]
                    probs = nets.opponent(k - 1, o["observation"], t, o["action_mask"])
                    p = probs[min(int(goals[tree, k - 1]), len(probs) - 1)]
                    sampled = int((p.cumsum() < uniforms[k - 1] * p.sum()).sum())
                    joint[name] = min(sampled, NUM_ACTIONS - 1)
                obs, rewards, _, _, infos = env.step(joint)
                child = NaiveNode(env, obs, me not in env.agents, float(rewards[me]))
                node.children[action] = child
                path.append(child)
                value = _naive_evaluate(child, me, infos[me]["t"], nets)
            # backup
            g = value
            for child in reversed(path):
                g = child.r + settings.gamma * g
                child.w += g
                child.n += 1
        for a, child in root.children.items():
            visits[tree, a] = child.n
            q[tree, a] = child.w / (1 + child.n)
    return q, visits


def _naive_evaluate(node: NaiveNode, me: str, t: int, nets: NaiveNets) -> float:
    if node.terminal:
        return 0.0
    o = node.obs[me]
    node.prior, value = nets.policy_value(o["observation"], t, o["action_mask"])
    node.legal = o["action_mask"] > 0
    return value


def naive_decision(agent, settings: SearchSettings, d: Decisions, i: int, nets: NaiveNets):
    env, obs = naive_root_env(agent.config, d.roots, i)
    return naive_search(
        agent.config, settings, env, obs, int(d.focal[i]), d.goals[i], d.seeds[i], nets
    )


def check_naive(agent, settings: SearchSettings, d: Decisions) -> str:
    """The naive reference (with padded calls) gives the real search's visit counts and Q."""
    real = run_search(agent, settings, d)
    nets = NaiveNets(agent, padded=True)
    for i in range(d.size):
        q, visits = naive_decision(agent, settings, d, i, nets)
        if not np.array_equal(visits, real.visits[i]) or not np.allclose(q, real.q[i], atol=1e-9):
            raise AssertionError(
                f"naive reference differs from tom_agents.search on decision {i}:\n"
                f"visits {visits.tolist()}\nvs     {real.visits[i].tolist()}"
            )
    return (
        f"naive reference check: {d.size} decisions x {settings.num_trees} trees x "
        f"{settings.num_simulations} sims, visit counts identical and root Q equal (1e-9) to "
        "tom_agents.search"
    )


# =========================================================================== measurement


@dataclasses.dataclass
class Row:
    batch: int
    decisions: int  # decisions timed: B, or for B = 1 the decisions searched one after another
    sims: int  # simulations timed in all
    seconds: float  # their wall time: median over repeats (B > 1), sum over decisions (B = 1)
    walls: list[float]  # per repeat (B > 1) or per decision (B = 1)
    inst: Instrumented  # the instrumented run(s), merged over the decisions for B = 1
    bound: float  # seconds of the same network calls replayed (median over repeats for B > 1)
    trace_peak_mib: float
    rss_before: float
    rss_after: float

    @property
    def latency(self) -> float:
        """Wall time of one batch (B > 1: median of repeats; B = 1: mean over the decisions)."""
        return statistics.median(self.walls) if self.batch > 1 else statistics.fmean(self.walls)

    @property
    def sims_per_s(self) -> float:
        return self.sims / self.seconds

    @property
    def bound_sims_per_s(self) -> float:
        return self.sims / self.bound

    @property
    def batches(self) -> int:
        """Searches whose calls ``inst`` holds: 1, or the decisions for B = 1."""
        return self.decisions if self.batch == 1 else 1


def spread(values: list[float]) -> str:
    return f"{min(values):.3g}-{max(values):.3g}" if len(values) > 1 else "-"


def traced_peak_mib(fn: Callable) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def merge(insts: list[Instrumented]) -> Instrumented:
    timers = Timers()
    for inst in insts:
        for key, value in inst.timers.seconds.items():
            timers.seconds[key] = timers.seconds.get(key, 0.0) + value
        for key, value in inst.timers.calls.items():
            timers.calls[key] = timers.calls.get(key, 0) + value
    return Instrumented(sum(i.wall for i in insts), [c for i in insts for c in i.calls], timers)


def measure_batch(agent, settings, pool: Decisions, batch: int, repeats: int, log) -> Row:
    d = pool.subset(np.arange(batch))
    sims = batch * settings.num_trees * settings.num_simulations
    rss_before = peak_rss_mib()
    inst = instrumented_search(agent, settings, d)  # also the warm-up
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_search(agent, settings, d)
        walls.append(time.perf_counter() - t0)
    log(
        f"  B={batch:4d} search: median {statistics.median(walls):.3f} s "
        f"({sims / statistics.median(walls):,.0f} sims/s; runs {[round(w, 3) for w in walls]}; "
        f"instrumented {inst.wall:.3f} s)"
    )
    peak = traced_peak_mib(lambda: run_search(agent, settings, d))
    rss_after = peak_rss_mib()
    bounds = [replay_forwards(agent, inst, seed=r) for r in range(repeats)]
    log(
        f"  B={batch:4d} bound: median {statistics.median(bounds):.3f} s of forwards "
        f"({len(inst.pv_calls)} PV calls / {inst.pv_rows} rows, {len(inst.opp_calls)} "
        f"opponent calls / {inst.opp_rows} rows x {agent.num_coplayers} nets); tracemalloc "
        f"peak {peak:.1f} MiB; {load_line()}"
    )
    return Row(
        batch,
        batch,
        sims,
        statistics.median(walls),
        walls,
        inst,
        statistics.median(bounds),
        peak,
        rss_before,
        rss_after,
    )


@dataclasses.dataclass
class NaiveResult:
    walls: list[float]  # naive latency per decision
    ours: list[float]  # tom_agents.search on the same decision alone (B = 1)
    pv_calls: float  # per decision
    opp_calls: float
    breakdown: list[str]

    @property
    def latency(self) -> float:
        """Mean latency: B decisions one after the other take B times this."""
        return statistics.fmean(self.walls)

    @property
    def ratios(self) -> list[float]:
        return [n / o for n, o in zip(self.walls, self.ours)]


def measure_single(agent, settings, pool: Decisions, decisions: int, log):
    """B = 1: the first decisions of the pool one after another, each searched by the naive
    reference and alone by ``tom_agents.search`` (instrumented run, timed run, forward replay),
    interleaved so that both see the same machine load. Returns (Row, NaiveResult)."""
    d = pool.subset(np.arange(min(decisions, pool.size)))
    per_decision = settings.num_trees * settings.num_simulations
    nets = NaiveNets(agent, padded=False)
    naive_decision(agent, dataclasses.replace(settings, num_simulations=5), d, 0, nets)  # warm-up
    run_search(agent, settings, d.subset(0))  # warm-up
    nets.calls = {"pv": 0, "opp": 0}
    rss_before = peak_rss_mib()
    naive, ours, insts, bounds, peaks = [], [], [], [], []
    for i in range(d.size):
        one = d.subset(i)
        t0 = time.perf_counter()
        naive_decision(agent, settings, d, i, nets)
        naive.append(time.perf_counter() - t0)
        insts.append(instrumented_search(agent, settings, one))
        t0 = time.perf_counter()
        run_search(agent, settings, one)
        ours.append(time.perf_counter() - t0)
        bounds.append(replay_forwards(agent, insts[-1], seed=i))
        peaks.append(traced_peak_mib(lambda one=one: run_search(agent, settings, one)))
        if (i + 1) % 16 == 0 or i + 1 == d.size:
            ratios = [n / o for n, o in zip(naive, ours)]
            log(
                f"  decisions 0-{i}: naive {sum(naive):.2f} s, tom_agents.search one by one "
                f"(B=1) {sum(ours):.2f} s, its forwards replayed {sum(bounds):.2f} s; paired "
                f"ratios naive/ours median {statistics.median(ratios):.1f}x (range "
                f"{min(ratios):.1f}-{max(ratios):.1f}); {load_line()}"
            )
    row = Row(
        1,
        d.size,
        d.size * per_decision,
        sum(ours),
        ours,
        merge(insts),
        sum(bounds),
        max(peaks),
        rss_before,
        peak_rss_mib(),
    )
    calls = {k: v / d.size for k, v in nets.calls.items()}
    result = NaiveResult(
        naive, ours, calls["pv"], calls["opp"], naive_breakdown(agent, settings, d, nets)
    )
    return row, result


def naive_breakdown(agent, settings, d: Decisions, nets: NaiveNets) -> list[str]:
    """Where the naive's time goes (first 4 decisions), from cProfile's cumulative times."""
    prof = cProfile.Profile()
    prof.enable()
    for i in range(min(4, d.size)):
        naive_decision(agent, settings, d, i, nets)
    prof.disable()
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    total = sum(tt for _, _, tt, _, _ in stats.values())

    def cum(file_part: str, name: str) -> float:
        return sum(v[3] for k, v in stats.items() if k[2] == name and file_part in k[0])

    parts = {
        "policy-value net, batch 1": cum("mcts_throughput", "policy_value"),
        "opponent nets, batch 1": cum("mcts_throughput", "opponent"),
        "copy.deepcopy of the env": cum("copy.py", "deepcopy"),
        "PettingZoo env.step (rules engine + dicts)": cum("parallel.py", "step"),
    }
    parts["the rest (selection, backup, sampling, Python)"] = total - sum(parts.values())
    return [
        f"    {name:<62s} {100 * s / total:5.1f} %"
        for name, s in sorted(parts.items(), key=lambda kv: -kv[1])
    ]


def breakdown_lines(inst: Instrumented) -> list[str]:
    secs = dict(inst.timers.seconds)
    fwd = {
        "network forwards: policy-value": secs.pop("policy_value", 0.0),
        "network forwards: opponent nets": secs.pop("opponents", 0.0),
    }
    parts = {**fwd, **secs}
    parts["the rest: numpy indexing + Python in search/_expand/_evaluate"] = inst.wall - sum(
        parts.values()
    )
    return [
        f"    {name:<62s} {s:8.3f} s  {100 * s / inst.wall:5.1f} %"
        for name, s in sorted(parts.items(), key=lambda kv: -kv[1])
    ]


# =========================================================================== reports


def report(rows: list[Row], naive: NaiveResult, settings: SearchSettings) -> list[str]:
    per_decision = settings.num_trees * settings.num_simulations
    naive_sps = per_decision / naive.latency
    lines = [
        "| B | sims/batch | latency s (median; range) | search sims/s | forwards in search "
        "| tracemalloc peak MiB | peak RSS MiB (before -> after) | PV calls / rows per batch "
        "| opp. calls / rows per batch (x 3 nets) |",
        "|---|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        label = str(r.batch) if r.batch > 1 else f"1 ({r.decisions} decisions one by one)"
        latency = f"{r.latency:.3f} ({spread(r.walls)})"
        if r.batch == 1:
            latency = f"{r.latency:.3f} mean ({spread(r.walls)})"
        k = r.batches
        lines.append(
            f"| {label} | {r.sims // r.decisions * r.batch:,} | {latency} | "
            f"{r.sims_per_s:,.0f} | {100 * r.inst.forward_seconds / r.inst.wall:.0f} % | "
            f"{r.trace_peak_mib:.1f} | {r.rss_before:.0f} -> {r.rss_after:.0f} | "
            f"{len(r.inst.pv_calls) / k:,.0f} / {r.inst.pv_rows / k:,.0f} | "
            f"{len(r.inst.opp_calls) / k:,.0f} / {r.inst.opp_rows / k:,.0f} |"
        )
    lines.append(
        f"| naive (b), 1 ({len(naive.walls)} decisions one by one) | {per_decision:,} | "
        f"{naive.latency:.3f} mean ({spread(naive.walls)}) | {naive_sps:,.0f} | | | | "
        f"{naive.pv_calls:,.0f} / {naive.pv_calls:,.0f} | "
        f"{naive.opp_calls:,.0f} / {naive.opp_calls:,.0f} (x 1 net) |"
    )
    lines += [
        "",
        "| B | search sims/s | bound (a) sims/s | search / bound | naive (b) sims/s "
        "| naive time for B decisions (B x mean latency) | search / naive |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.batch} | {r.sims_per_s:,.0f} | {r.bound_sims_per_s:,.0f} | "
            f"{r.sims_per_s / r.bound_sims_per_s:.2f} | {naive_sps:,.0f} | "
            f"{r.batch * naive.latency:.2f} s | {r.sims_per_s / naive_sps:.1f}x |"
        )
    lines += ["", "Goals:"]
    for r in rows:
        if r.batch >= 64:
            ratio_b = r.sims_per_s / r.bound_sims_per_s
            ratio_n = r.sims_per_s / naive_sps
            lines.append(
                f"- B={r.batch}: search/bound = {ratio_b:.2f} (goal >= {GOAL_BOUND}): "
                f"{'MET' if ratio_b >= GOAL_BOUND else 'NOT MET'}; search/naive = "
                f"{ratio_n:.1f}x (goal >= {GOAL_NAIVE:.0f}x): "
                f"{'MET' if ratio_n >= GOAL_NAIVE else 'NOT MET'}"
            )
    ratio = statistics.median(naive.ratios)
    lines.append(
        f"- B=1: naive latency / ours, same decision = {ratio:.1f}x (median over "
        f"{len(naive.walls)} decisions, range {min(naive.ratios):.1f}-{max(naive.ratios):.1f}; "
        f"mean latencies naive {naive.latency:.3f} s, ours {statistics.fmean(naive.ours):.3f} s)"
        f" (goal >= {GOAL_LATENCY:.0f}x): {'MET' if ratio >= GOAL_LATENCY else 'NOT MET'}"
    )
    return lines


def profile(agent, settings: SearchSettings, pool: Decisions, batch: int, log) -> None:
    d = pool.subset(np.arange(batch))
    inst = instrumented_search(agent, settings, d)  # warm-up
    inst = instrumented_search(agent, settings, d)
    log(f"time breakdown of one B={batch} search ({inst.wall:.3f} s, instrumented):")
    for line in breakdown_lines(inst):
        log(line)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    run_search(agent, settings, d)
    prof.disable()
    log(f"\ncProfile of one B={batch} search ({time.perf_counter() - t0:.3f} s under cProfile)")
    log("(numba kernels show under their Python names, e.g. search.py(_select), search.py")
    log(" (_backup); torch operators called as tensor methods (``@``, ``+``) count in the")
    log(" tottime of the module's forward, e.g. nets.py(forward) of OpponentNet)")
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(key).print_stats(25)
        log(f"\n--- top 25 by {key} ---")
        log("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 sims, B <= 64")
    parser.add_argument("--profile", action="store_true", help="profile one B=64 search")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per B (3)")
    parser.add_argument(
        "--naive-decisions", type=int, default=None, help="B=1 / naive decisions (64)"
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    args = parser.parse_args()

    start = time.perf_counter()
    log = print
    log(f"# MCTS throughput, {datetime.datetime.now().isoformat(timespec='seconds')}")
    log("command: python " + " ".join([os.path.relpath(sys.argv[0]), *sys.argv[1:]]))
    for line in machine_lines():
        log(line)
    log(f"start: {load_line()}")

    agent = tom_agents.make_agent("hop", seed=0, device="cpu")
    sims = 20 if args.quick else agent.options.num_simulations
    settings = dataclasses.replace(agent.options.search, num_simulations=sims)
    log(
        f"agent: hop, opponent model {agent.options.opponent_model!r} (untrained), "
        f"{settings.num_trees} trees x {settings.num_simulations} sims, c_puct "
        f"{settings.c_puct}, gamma {settings.gamma}; {agent.config.num_players} players, "
        f"{agent.config.grid_size[0]}x{agent.config.grid_size[1]}; device {agent.device}"
    )

    batch_sizes = args.batch_sizes or (QUICK_BATCH_SIZES if args.quick else BATCH_SIZES)
    pool = make_decisions(max(*batch_sizes, 64), seed=POOL_SEED, num_trees=settings.num_trees)
    if args.profile:
        profile(agent, settings, pool, 64, log)
        return

    repeats = args.repeats or (1 if args.quick else 3)
    check = make_decisions(2, seed=5, num_trees=settings.num_trees)
    log(check_naive(agent, dataclasses.replace(settings, num_simulations=min(sims, 60)), check))
    n_single = args.naive_decisions or (4 if args.quick else 64)
    log(
        f"B=1: the first {n_single} decisions one by one, naive reference (b) (batch-1 calls) "
        "and tom_agents.search interleaved:"
    )
    single, naive = measure_single(agent, settings, pool, n_single, log)
    per_row_costs(agent, log)
    log("batched search and forward bound (a):")
    rows = [single]
    rows += [measure_batch(agent, settings, pool, b, repeats, log) for b in batch_sizes if b > 1]
    log("")
    for line in report(rows, naive, settings):
        log(line)
    big = [r for r in rows if r.batch >= 64] or rows[-1:]
    log(f"\ntime breakdown of the instrumented B={big[0].batch} search ({big[0].inst.wall:.3f} s):")
    for line in breakdown_lines(big[0].inst):
        log(line)
    log("\nnaive reference (b): shares of its time (first 4 decisions, under cProfile):")
    for line in naive.breakdown:
        log(line)
    log(f"\nend: {load_line()}; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
