"""Snapshots that do not fit are refused with a clear ValueError; seeding is reproducible."""

import copy

import numpy as np
import pytest

import staghunt_env
from staghunt_env import STAY

CONFIG = {"num_players": 3, "grid_size": (6, 7), "num_hares": 3, "num_stags": 1}


def started(factory=staghunt_env.parallel_env, seed=0, **config):
    env = factory(**{**CONFIG, **config})
    env.reset(seed=seed)
    return env


def play(env, rng, steps):
    """Random legal play on a parallel env; returns everything it saw (resetting at the end)."""
    seen = []
    for _ in range(steps):
        if not env.agents:
            seen.append(copy.deepcopy(env.reset()))
            continue
        game = env.game_state
        actions = {}
        for a in env.agents:
            i = env.possible_agents.index(a)
            on_hare = any(
                live and (h == game.pos[0, i]).all()
                for h, live in zip(game.hare_pos[0], game.hare_alive[0])
            )
            actions[a] = 6 if on_hare else int(rng.integers(0, 5))
        seen.append(copy.deepcopy(env.step(actions)))
    return seen


def assert_same(x, y):
    if isinstance(x, dict):
        assert list(x) == list(y)
        for k in x:
            assert_same(x[k], y[k])
    elif isinstance(x, (list, tuple)):
        assert len(x) == len(y)
        for a, b in zip(x, y):
            assert_same(a, b)
    elif isinstance(x, np.ndarray):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    else:
        assert x == y


def edited(snapshot, edit):
    snapshot = copy.deepcopy(snapshot)
    edit(snapshot)
    return snapshot


# ---------------------------------------------------------------------------- another config


@pytest.mark.parametrize(
    ("field", "other"),
    [
        ("num_players", {"num_players": 4}),
        ("num_hares", {"num_hares": 2}),
        ("grid_size", {"grid_size": (7, 6)}),
        ("stag_reward", {"stag_reward": 4.0}),
        ("prosocial", {"prosocial": True}),
        ("max_cycles", {"max_cycles": 10}),
        ("player_strength", {"player_strength": (1, 2, 3)}),
    ],
)
def test_a_snapshot_from_another_configuration_names_the_field(field, other):
    env = started()
    foreign = started(**other).get_state()
    with pytest.raises(ValueError, match=rf"another env configuration.*{field}"):
        env.set_state(foreign)
    aec = started(staghunt_env.raw_env)
    with pytest.raises(ValueError, match=rf"another env configuration.*{field}"):
        aec.set_state(started(staghunt_env.raw_env, **other).get_state())


def test_a_snapshot_from_another_layout_names_the_layout():
    env = staghunt_env.parallel_env(layout=["0.S", "1.H"])
    other = staghunt_env.parallel_env(layout=["0S.", "1.H"])
    env.reset(seed=0)
    other.reset(seed=0)
    with pytest.raises(ValueError, match=r"another env configuration.*layout"):
        env.set_state(other.get_state())


# ---------------------------------------------------------------------------- malformed


def _set(snapshot, path, value):
    target = snapshot
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _delete(snapshot, path):
    target = snapshot
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]


MALFORMED = {
    "a list": (lambda s: [s], r"not a stag hunt snapshot"),
    "no format": (lambda s: {k: v for k, v in s.items() if k != "format"}, r"format"),
    "another format": (lambda s: {**s, "format": "something/else"}, r"format"),
    **{
        f"missing {key}": (
            lambda s, key=key: {k: v for k, v in s.items() if k != key},
            rf"missing \['{key}'\]",
        )
        for key in ("config", "game", "agents", "rng")
    },
    "config not a dict": (lambda s: edited(s, lambda t: _set(t, ["config"], "default")), "config"),
    "game not a dict": (
        lambda s: edited(s, lambda t: _set(t, ["game"], [1, 2])),
        r"snapshot\['game'\] must be a dict",
    ),
    "game missing a field": (
        lambda s: edited(s, lambda t: _delete(t, ["game", "t"])),
        r"wrong fields.*'t'",
    ),
    "game with an unknown field": (
        lambda s: edited(s, lambda t: _set(t, ["game", "score"], np.zeros(1))),
        r"wrong fields.*score",
    ),
    "positions of the wrong shape": (
        lambda s: edited(s, lambda t: _set(t, ["game", "pos"], np.zeros((1, 4, 2), np.int16))),
        r"'pos' has shape \(1, 4, 2\)",
    ),
    "positions of the wrong dtype": (
        lambda s: edited(s, lambda t: _set(t, ["game", "pos"], t["game"]["pos"].astype(float))),
        r"'pos' .*dtype float64.*int16",
    ),
    "blocks of the wrong grid size": (
        lambda s: edited(s, lambda t: _set(t, ["game", "blocks"], np.zeros((1, 7, 6), bool))),
        r"'blocks' has shape \(1, 7, 6\)",
    ),
    "a batch of two": (
        lambda s: edited(s, lambda t: _set(t, ["game", "t"], np.zeros(2, np.int32))),
        r"'t' has shape \(2,\)",
    ),
    "a hunter below the grid": (
        lambda s: edited(s, lambda t: _set(t, ["game", "pos"], np.full((1, 3, 2), 6, np.int16))),
        r"'pos' has cells outside the 6x7 grid",
    ),
    "a hare left of the grid": (
        lambda s: edited(
            s, lambda t: _set(t, ["game", "hare_pos"], np.full((1, 3, 2), -1, np.int16))
        ),
        r"'hare_pos' has cells outside",
    ),
    "a stag right of the grid": (
        lambda s: edited(
            s, lambda t: _set(t, ["game", "stag_pos"], np.array([[[0, 7]]], np.int16))
        ),
        r"'stag_pos' has cells outside",
    ),
    "unknown agents": (
        lambda s: edited(s, lambda t: _set(t, ["agents"], ["hunter_0", "hunter_9"])),
        r"agents.*hunter_9.* not among",
    ),
    "agents not a list": (lambda s: edited(s, lambda t: _set(t, ["agents"], "hunter_0")), "agents"),
    "RNG not a dict": (lambda s: edited(s, lambda t: _set(t, ["rng"], "seed 3")), "RNG state"),
    "RNG of an unknown bit generator": (
        lambda s: edited(s, lambda t: _set(t, ["rng", "bit_generator"], "NoSuchBitGenerator")),
        "RNG state",
    ),
    "RNG state of another bit generator": (
        lambda s: edited(s, lambda t: _set(t, ["rng", "bit_generator"], "MT19937")),
        "RNG state",
    ),
    "RNG state incomplete": (
        lambda s: edited(s, lambda t: _delete(t, ["rng", "state"])),
        "RNG state",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_snapshots_are_refused_and_change_nothing(case):
    make_bad, message = MALFORMED[case]
    env = started()
    play(env, np.random.default_rng(0), 3)
    twin = env.clone()
    with pytest.raises(ValueError, match=message):
        env.set_state(make_bad(env.get_state()))
    rng = np.random.default_rng(1)
    assert_same(play(env, rng, 40), play(twin, np.random.default_rng(1), 40))


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_snapshots_are_refused_by_the_aec_env(case):
    make_bad, message = MALFORMED[case]
    aec = started(staghunt_env.raw_env)
    snapshot = aec.get_state()
    bad = make_bad(snapshot)
    if not isinstance(bad, dict) or "aec" not in bad:
        message = "not an AEC snapshot"  # removing keys may drop the turn bookkeeping first
    with pytest.raises(ValueError, match=message):
        aec.set_state(bad)


def test_a_parallel_snapshot_is_refused_by_the_aec_env():
    aec = started(staghunt_env.raw_env)
    with pytest.raises(ValueError, match=r"not an AEC snapshot.*parallel"):
        aec.set_state(started().get_state())
    with pytest.raises(ValueError, match="not an AEC snapshot"):
        aec.set_state("not even a dict")


def test_an_aec_snapshot_missing_turn_bookkeeping_is_refused():
    aec = started(staghunt_env.raw_env)
    aec.step(STAY)  # mid-cycle: one hunter has acted
    snapshot = aec.get_state()
    for field in ("_pending", "agent_selection", "_agent_selector"):
        bad = edited(snapshot, lambda s, field=field: _delete(s, ["aec", field]))
        with pytest.raises(ValueError, match=rf"AEC snapshot is missing \['{field}'\]"):
            aec.set_state(bad)
    aec.set_state(snapshot)  # the genuine one still works
    assert aec.agent_selection == "hunter_1"


def test_the_wrapped_aec_env_restores_through_unwrapped():
    env = staghunt_env.env(**CONFIG)
    env.reset(seed=3)
    env.step(STAY)
    snapshot = env.unwrapped.get_state()
    env.step(STAY)
    env.unwrapped.set_state(snapshot)
    assert env.agent_selection == "hunter_1"
    assert env.unwrapped._pending == {"hunter_0": STAY}


# ---------------------------------------------------------------------------- seeding


@pytest.mark.parametrize("factory", [staghunt_env.parallel_env, staghunt_env.raw_env])
def test_reset_with_the_same_seed_gives_the_same_episode(factory):
    env = factory(**CONFIG)
    env.reset(seed=123)
    first = copy.deepcopy(env.state())
    env.reset(seed=99)
    other = copy.deepcopy(env.state())
    env.reset(seed=123)
    np.testing.assert_array_equal(env.state(), first)
    assert not np.array_equal(first, other), "different seeds, different maps"


def test_seeded_episodes_are_identical_step_by_step():
    env = staghunt_env.parallel_env(**CONFIG)
    runs = []
    for _ in range(2):
        runs.append([copy.deepcopy(env.reset(seed=7)), *play(env, np.random.default_rng(5), 80)])
    assert_same(runs[0], runs[1])
    resets = sum(1 for item in runs[0] if len(item) == 2)
    assert resets >= 2, "the 80 steps span several episodes (unseeded resets included)"


def test_reset_without_seed_continues_deterministically():
    a, b = staghunt_env.parallel_env(**CONFIG), staghunt_env.parallel_env(**CONFIG)
    maps_a, maps_b = [], []
    for env, maps in ((a, maps_a), (b, maps_b)):
        env.reset(seed=11)
        maps.append(env.state().copy())
        for _ in range(4):
            env.reset()
            maps.append(env.state().copy())
    for x, y in zip(maps_a, maps_b):
        np.testing.assert_array_equal(x, y)
    assert len({m.tobytes() for m in maps_a}) == len(maps_a), "each reset draws a new map"


def test_unseeded_reset_after_a_restored_snapshot_continues_the_same_way():
    env = staghunt_env.parallel_env(**CONFIG)
    env.reset(seed=4)
    snapshot = env.get_state()
    env.reset()
    expected = env.state().copy()
    fresh = staghunt_env.parallel_env(**CONFIG)
    fresh.set_state(snapshot)
    fresh.reset()
    np.testing.assert_array_equal(fresh.state(), expected)
