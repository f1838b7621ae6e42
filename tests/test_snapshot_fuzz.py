"""Fuzzed snapshots: random mutations of valid snapshots of the parallel, AEC and batched envs
(extreme ints, flipped bools, another t, agents deleted or duplicated, other dtypes and shapes,
extra or missing keys) are refused with a ValueError, or restore a game that random legal play
ends within max_cycles steps. Each kind runs in a subprocess (this file as a script), so that a
segfault fails its test instead of killing pytest."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import staghunt_env
from staghunt_env import BatchedStagHunt, GameState, aec, observe

KINDS = ("parallel", "aec", "batched")
CONFIG = {"num_players": 3, "grid_size": (5, 5), "num_hares": 2, "num_stags": 1, "max_cycles": 12}
MAX_CYCLES = CONFIG["max_cycles"]
EXAMPLES = 400


@pytest.mark.parametrize("kind", KINDS)
def test_mutated_snapshots_are_refused_or_play_to_the_end(kind):
    result = subprocess.run(
        [sys.executable, __file__, kind], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (result.returncode, result.stdout[-3000:], result.stderr[-5000:])
    assert f"{kind}: fuzzed" in result.stdout, result.stdout


# ---------------------------------------------------------------------------- mutations

FIELDS = tuple(GameState.zeros(staghunt_env.StagHuntConfig.make(**CONFIG), 1).arrays())
EXTREMES = (-(2**31), -(2**15), -2, -1, 0, 1, 4, 5, 6, 11, 12, 13, 2**15 - 1, 2**31 - 1)
DTYPES = (np.int8, np.int16, np.int32, np.int64, np.float64, bool)
AGENT_EDITS = ("delete", "duplicate", "unknown", "reverse", "all", "none", "string")
TURN_FIELDS = aec._TURN_FIELDS + aec._OPTIONAL_TURN_FIELDS  # what an AEC snapshot carries

mutation = st.one_of(
    st.tuples(
        st.just("value"), st.sampled_from(FIELDS), st.integers(0, 999), st.sampled_from(EXTREMES)
    ),
    st.tuples(st.just("flip"), st.sampled_from(FIELDS), st.integers(0, 999)),
    st.tuples(st.just("dtype"), st.sampled_from(FIELDS), st.sampled_from(DTYPES)),
    st.tuples(st.just("games"), st.sampled_from(FIELDS), st.sampled_from([0, 2])),
    st.tuples(st.just("t"), st.sampled_from(EXTREMES)),
    st.tuples(st.just("agents"), st.sampled_from(AGENT_EDITS), st.integers(0, 2)),
    st.tuples(st.just("extra"), st.sampled_from(["top", "game", "aec"])),
    st.tuples(st.just("delete"), st.sampled_from(["config", "game", "agents", "rng", "returns"])),
    st.tuples(st.just("turn"), st.sampled_from(TURN_FIELDS), st.integers(0, 5)),
    st.tuples(st.just("returns"), st.sampled_from([np.nan, np.inf, -np.inf, 3.0])),
)


def mutate_game(arrays: dict, op: tuple) -> None:
    """Apply a game mutation in place to a dict of the state's arrays."""
    kind = op[0]
    if kind == "t":
        arrays["t"] = np.full(len(arrays["t"]), op[1], dtype=np.int64).astype(arrays["t"].dtype)
        return
    name = op[1]
    a = arrays[name]
    if kind == "value" and a.size:
        a.reshape(-1)[op[2] % a.size] = np.array(op[3]).astype(a.dtype)
    elif kind == "flip" and a.size:
        flat = a.reshape(-1)
        flat[op[2] % a.size] = (
            not flat[op[2] % a.size] if a.dtype == bool else -flat[op[2] % a.size] - 1
        )
    elif kind == "dtype":
        arrays[name] = a.astype(op[2])
    elif kind == "games":
        arrays[name] = np.concatenate([a] * op[2]) if op[2] else a[:0]


def mutate_turns(turn: dict, op: tuple, rng: np.random.Generator) -> None:
    name, choice = op[1], op[2]
    names = [f"hunter_{i}" for i in range(CONFIG["num_players"])] + ["hunter_7", 3, None]
    value = turn.get(name)
    if choice == 0:
        turn[name] = names[rng.integers(len(names))]
    elif choice == 1 and isinstance(value, dict) and value:
        value.pop(next(iter(value)))
    elif choice == 2 and isinstance(value, dict):
        value[names[rng.integers(len(names))]] = [0, 4, 4.0, True, np.nan, -1][rng.integers(6)]
    elif choice == 3 and isinstance(value, dict) and value:
        key = next(iter(value))
        value[key] = not value[key] if isinstance(value[key], bool) else {"t": -1}
    elif choice == 4 and isinstance(value, list) and value:
        value.append(value[0])
    else:
        turn.pop(name, None)


def mutate(snapshot: dict, ops: list, kind: str, rng: np.random.Generator) -> None:
    for op in ops:
        game = snapshot.get("game")
        arrays = game.arrays() if isinstance(game, GameState) else game
        if op[0] in ("value", "flip", "dtype", "games", "t") and isinstance(arrays, dict):
            mutate_game(arrays, op)
            if isinstance(game, GameState):
                snapshot["game"] = GameState(**arrays)
        elif op[0] == "agents" and kind != "batched":
            snapshot["agents"] = edit_agents(snapshot["agents"], *op[1:])
        elif op[0] == "extra":
            target = {"top": snapshot, "game": arrays, "aec": snapshot.get("aec")}[op[1]]
            if isinstance(target, dict):
                target["extra"] = np.zeros(1)
        elif op[0] == "delete":
            snapshot.pop(op[1], None)
        elif op[0] == "turn" and kind == "aec":
            mutate_turns(snapshot["aec"], op, rng)
        elif op[0] == "returns" and kind == "batched":
            snapshot["returns"].reshape(-1)[0] = op[1]


def edit_agents(agents: list, how: str, i: int):
    names = [f"hunter_{k}" for k in range(CONFIG["num_players"])]
    if how == "delete":
        return agents[:i] + agents[i + 1 :]
    if how == "duplicate":
        return agents + agents[i : i + 1]
    if how == "unknown":
        return [*agents, "hunter_9"]
    return {"reverse": agents[::-1], "all": names, "none": [], "string": "hunter_0"}[how]


# ---------------------------------------------------------------------------- play


def legal(mask: np.ndarray, rng: np.random.Generator) -> int:
    return int(rng.choice(np.flatnonzero(mask)))


def warm_up(env, kind: str, steps: int, rng: np.random.Generator) -> None:
    for _ in range(steps):
        if kind == "batched":
            _, mask = env.observe()
            env.step((rng.random(mask.shape) * mask).argmax(-1))
        elif not env.agents:
            return
        elif kind == "parallel":
            env.step(parallel_actions(env, rng))
        else:
            aec_turn(env, rng)


def parallel_actions(env, rng) -> dict:
    _, mask = observe.observe(env.game_state)
    return {a: legal(mask[0, env.possible_agents.index(a)], rng) for a in env.agents}


def aec_turn(env, rng) -> None:
    observation, _, term, trunc, _ = env.last()
    env.step(None if term or trunc else legal(observation["action_mask"], rng))


def play_to_the_end(env, kind: str, rng: np.random.Generator) -> None:
    """Random legal play ends every restored game within max_cycles steps, with sane outputs."""
    if kind == "batched":
        ended = np.zeros(env.num_envs, dtype=bool)
        _, mask = env.observe()
        for _ in range(MAX_CYCLES):
            obs, mask, rewards, *_ = env.step((rng.random(mask.shape) * mask).argmax(-1))
            assert np.isfinite(rewards).all() and set(np.unique(obs)) <= {0, 1}
            ended |= env.episode_ended
        assert ended.all(), "every game ended within max_cycles steps"
        return
    turns = MAX_CYCLES if kind == "parallel" else (MAX_CYCLES + 1) * (CONFIG["num_players"] + 1)
    for _ in range(turns):
        if not env.agents:
            return
        if kind == "parallel":
            _, rewards, *_ = env.step(parallel_actions(env, rng))
            assert all(np.isfinite(r) for r in rewards.values())
        else:
            aec_turn(env, rng)
    assert not env.agents, f"the game did not end within {turns} turns"


def make(kind: str):
    if kind == "batched":
        return BatchedStagHunt(3, seed=0, **CONFIG)
    return (staghunt_env.parallel_env if kind == "parallel" else staghunt_env.raw_env)(**CONFIG)


def fuzz(kind: str) -> None:
    env = make(kind)
    counts = {"refused": 0, "played": 0}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(
        seed=st.integers(0, 2**16),
        warmup=st.integers(0, 25),
        ops=st.lists(mutation, min_size=1, max_size=3),
    )
    def run(seed, warmup, ops):
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        warm_up(env, kind, warmup, rng)
        snapshot = env.get_state()
        mutate(snapshot, ops, kind, rng)
        try:
            env.set_state(snapshot)
        except ValueError:
            counts["refused"] += 1
            return
        counts["played"] += 1
        play_to_the_end(env, kind, rng)

    run()
    assert counts["refused"] and counts["played"], counts
    print(f"{kind}: fuzzed {sum(counts.values())} snapshots, {counts}")


if __name__ == "__main__":
    fuzz(sys.argv[1])
