"""The naive references play the same games as the real code, so benchmark ratios are honest.

Also the shared benchmark helpers, whose figures every RESULTS.md table relies on.
"""

from __future__ import annotations

import numpy as np
import pytest

import staghunt_env
from benchmarks.common import machine_info, markdown_table, median_time
from benchmarks.reference import NaiveStagHunt, check_naive_against_real


def test_naive_env_matches_the_real_engine() -> None:
    ok, detail = check_naive_against_real(episodes=30)
    assert ok, detail
    assert "stag catches" in detail and "hare catches" in detail  # the rules were exercised


class _DoubleHareReward(NaiveStagHunt):
    """A naive game with one rule wrong: the check must notice."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hare_reward *= 2


class _StagHuntAsHare(NaiveStagHunt):
    """A naive game that plays HUNT_STAG as HUNT_HARE: the check must notice."""

    def step(self, actions: dict[str, int]):  # type: ignore[override]
        solo = {a: (6 if act == 5 else act) for a, act in actions.items()}
        return super().step(solo)


@pytest.mark.parametrize("wrong", [_DoubleHareReward, _StagHuntAsHare])
def test_check_catches_a_wrong_rule(wrong: type[NaiveStagHunt]) -> None:
    ok, detail = check_naive_against_real(episodes=10, naive_cls=wrong)
    assert not ok
    assert "differs" in detail or "!=" in detail


def test_deepcopy_changes_only_the_cost() -> None:
    """The timed naive line deep-copies the state each step; the outputs must not change."""
    real = staghunt_env.parallel_env()
    real.reset(seed=3)
    envs = [NaiveStagHunt(deepcopy=d) for d in (True, False)]
    obs = [env.load(real.game_state, real.agents) for env in envs]
    rng = np.random.default_rng(0)
    while envs[0].agents:
        actions = {
            a: int(rng.choice(np.flatnonzero(obs[0][a]["action_mask"]))) for a in envs[0].agents
        }
        outs = [env.step(actions) for env in envs]
        assert outs[0][1:] == outs[1][1:]
        for a in outs[0][0]:
            np.testing.assert_array_equal(
                outs[0][0][a]["observation"], outs[1][0][a]["observation"]
            )
        obs = [out[0] for out in outs]
    assert envs[0].saved_state is not None and envs[1].saved_state is None


def test_naive_reset_draws_a_valid_game() -> None:
    """The naive loop's resets are timed too: they must draw a legal start."""
    env = NaiveStagHunt(seed=0)
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        st = env.state
        entities = st["players"] + st["stags"] + st["hares"]
        assert len({tuple(c) for c in entities}) == len(entities) == 4 + 1 + 4
        assert not any(c in st["blocks"] for c in entities)
        assert set(obs) == set(env.possible_agents)
        assert obs["hunter_0"]["observation"].shape == (8, 8, 4 + 3)


def test_median_time_warms_up_then_takes_the_median() -> None:
    calls = []
    seconds = median_time(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and 0 <= seconds < 0.1
    with pytest.raises(ValueError):
        median_time(lambda: None, repeats=0)


def test_markdown_table_and_machine_info() -> None:
    table = markdown_table([{"line": "a", "rate": 1234.5}, {"line": "b", "ratio": 0.5}])
    assert table.splitlines() == [
        "| line | rate | ratio |",
        "|---|---:|---:|",
        "| a | 1,234 |  |",
        "| b |  | 0.5 |",
    ]
    info = machine_info()
    assert {"cpu", "cores", "python", "numpy", "numba", "torch", "threads"} <= set(info)
