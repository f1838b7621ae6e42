"""The batched engine is the same game as the PettingZoo env, game by game."""

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import staghunt_env
from staghunt_env import BatchedStagHunt, Catch, GameState, observe, rules
from staghunt_env.spec import (
    HUNT_HARE,
    HUNT_STAG,
    NUM_ACTIONS,
    RIGHT,
    STAY,
    agent_index,
    agent_name,
)

configs = st.fixed_dictionaries(
    {
        "num_players": st.integers(2, 5),
        "num_stags": st.integers(0, 2),
        "num_hares": st.integers(0, 4),
        "grid_size": st.tuples(st.integers(3, 9), st.integers(3, 9)),
        "max_block_components": st.integers(0, 5),
        "max_cycles": st.integers(1, 30),
        "prosocial": st.booleans(),
        "time_reward": st.sampled_from([0.0, -0.1]),
        "end_after_first_hunt": st.sampled_from([None, 0, 3]),
    }
)


def _env_from_game(config, game: GameState) -> staghunt_env.parallel.StagHuntParallelEnv:
    env = staghunt_env.parallel_env(**config)
    snapshot = env.get_state()
    snapshot["game"] = game.arrays()
    alive = game.alive[0] & ~game.over[0]
    snapshot["agents"] = [a for i, a in enumerate(env.possible_agents) if alive[i]]
    env.set_state(snapshot)
    return env


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, seed=st.integers(0, 2**32 - 1), legal=st.booleans())
def test_batched_engine_matches_the_parallel_env(config, seed, legal):
    try:
        batched = BatchedStagHunt(8, seed=seed, **config)
    except ValueError:
        assume(False)
    n = batched.config.num_players
    rng = np.random.default_rng(seed)
    obs, mask = batched.reset()
    envs = [_env_from_game(config, batched.select(b)) for b in range(8)]
    returns = np.zeros((8, n), dtype=np.float64)
    for _ in range(60):
        if legal:
            actions = (rng.random(mask.shape) * mask).argmax(-1)
        else:
            actions = rng.integers(0, NUM_ACTIONS, (8, n))
        obs, mask, rewards, terminated, truncated = batched.step(actions)
        for b, env in enumerate(envs):
            live = list(env.agents)
            o, r, te, tr, info = env.step({a: int(actions[b, agent_index(a)]) for a in live})
            for a in live:
                i = agent_index(a)
                assert r[a] == pytest.approx(rewards[b, i]), (b, a)
                assert te[a] == terminated[b, i] and tr[a] == truncated[b, i]
                assert info[a]["caught"] == batched.caught[b, i], (b, a)
            for i in range(n):
                if agent_name(i) not in live:
                    assert rewards[b, i] == 0 and not terminated[b, i] and not truncated[b, i]
                    assert batched.caught[b, i] == Catch.NOTHING
            if batched.episode_ended[b]:
                assert env.agents == []
                for i in range(n):
                    a = agent_name(i)
                    if env.game_state.alive[0, i]:  # still standing at the end: sees the final grid
                        np.testing.assert_array_equal(o[a]["observation"], batched.final_obs[b, i])
                    else:
                        assert not batched.final_obs[b, i].any()
                np.testing.assert_allclose(
                    batched.final_returns[b], returns[b] + rewards[b], atol=1e-5
                )
                returns[b] = 0
                fresh = batched.select(b)
                assert fresh.t[0] == 0 and not fresh.over[0]
                envs[b] = _env_from_game(config, fresh)
                continue
            returns[b] += rewards[b]
            for a in env.agents:
                i = agent_index(a)
                np.testing.assert_array_equal(o[a]["observation"], obs[b, i])
                np.testing.assert_array_equal(o[a]["action_mask"], mask[b, i])
            for i in range(n):
                if agent_name(i) not in env.agents:  # departed: zero view, STAY only
                    assert not obs[b, i].any()
                    assert list(mask[b, i]) == [0, 0, 0, 0, 1, 0, 0]


def test_auto_reset_reports_the_final_step_and_starts_a_new_episode():
    layout = ["0H1", "...", "..H"]
    batched = BatchedStagHunt(2, seed=0, layout=layout, max_cycles=3)
    obs, mask = batched.reset()
    batched.step(np.array([[3, 4], [4, 4]]))  # hunter 0 of game 0 steps onto the hare
    obs, mask, rewards, terminated, truncated = batched.step(np.array([[6, 4], [4, 4]]))
    assert rewards.tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert terminated.tolist() == [[True, False], [False, False]]
    assert not obs[0, 0].any() and mask[0, 0].tolist() == [0, 0, 0, 0, 1, 0, 0]
    obs, mask, rewards, terminated, truncated = batched.step(np.full((2, 2), 4))
    assert batched.episode_ended.tolist() == [True, True]
    assert truncated.tolist() == [[False, True], [True, True]]
    assert batched.final_returns.tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert batched.state.t.tolist() == [0, 0], "both games restarted"
    assert obs[0, 0].any() and mask[0, 0, 6] == 0


def test_caught_reports_the_step_just_taken_also_for_games_that_ended_in_it():
    # game 0: hunter 0 takes the only hare and the lone stag is out of reach, so the game ends;
    # game 1: hunter 0 hunts a stag alone and fails; game 2 just waits
    batched = BatchedStagHunt(3, seed=0, layout=["0HS", "..1"])
    batched.reset()
    assert batched.caught.dtype == np.int8 and (batched.caught == Catch.NOTHING).all()
    batched.step(np.array([[RIGHT, STAY], [RIGHT, STAY], [STAY, STAY]]))
    assert (batched.caught == Catch.NOTHING).all()
    batched.step(np.array([[HUNT_HARE, STAY], [RIGHT, STAY], [STAY, STAY]]))
    assert batched.episode_ended.tolist() == [True, False, False]
    nothing = [Catch.NOTHING] * 2
    assert batched.caught.tolist() == [[Catch.HARE, Catch.NOTHING], nothing, nothing]
    assert batched.rewards[0].tolist() == [1.0, 0.0] and batched.state.t[0] == 0, "restarted"
    batched.step(np.array([[STAY, STAY], [HUNT_STAG, STAY], [STAY, STAY]]))
    assert (batched.caught == Catch.NOTHING).all(), "a lone stag hunter catches nothing"
    batched.caught[:] = Catch.HARE
    batched.reset()
    assert (batched.caught == Catch.NOTHING).all()


def test_select_and_assign_branch_games():
    batched = BatchedStagHunt(4, seed=1)
    batched.reset()
    branch = batched.select([2, 2, 2])
    assert isinstance(branch, GameState) and branch.batch_size == 3
    batched.step(np.full((4, 4), 1))
    batched.assign([0, 1, 3], branch)
    obs, mask = batched.observe()
    np.testing.assert_array_equal(obs[0], obs[1])
    np.testing.assert_array_equal(batched.state.pos[0], branch.pos[0])
    snapshot = batched.get_state()
    first = [a.copy() for a in batched.step(np.full((4, 4), 3))]
    batched.set_state(snapshot)
    second = batched.step(np.full((4, 4), 3))
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)


def test_bad_input_is_refused_with_a_clear_error():
    batched = BatchedStagHunt(2, seed=0)
    batched.reset()
    with pytest.raises(ValueError, match="shape"):
        batched.step(np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="Discrete"):
        batched.step(np.full((2, 4), 7))
    with pytest.raises(ValueError, match="integers"):
        batched.step(np.zeros((2, 4)))
    other = BatchedStagHunt(2, seed=0, num_hares=3)
    with pytest.raises(ValueError, match="num_hares"):
        batched.set_state(other.get_state())
    with pytest.raises(ValueError, match="num_envs"):
        BatchedStagHunt(0)


def test_torch_outputs_on_a_device():
    torch = pytest.importorskip("torch")
    batched = BatchedStagHunt(3, seed=0, device="cpu")
    obs, mask = batched.reset()
    assert isinstance(obs, torch.Tensor) and obs.shape == (3, 4, 8, 8, 7)
    out = batched.step(torch.full((3, 4), 4))
    assert all(isinstance(x, torch.Tensor) for x in out)


def test_incremental_observations_equal_full_ones_on_a_parallel_sized_batch(monkeypatch):
    """Big batches use the parallel kernels and write only what changed: check against a full observe."""
    for module in (rules, observe):  # parallel even where numba has a single thread
        monkeypatch.setattr(module, "use_parallel", lambda games: games >= rules.PARALLEL_FROM)
    batched = BatchedStagHunt(rules.PARALLEL_FROM + 88, seed=5, max_cycles=12)
    obs, mask = batched.reset()
    rng = np.random.default_rng(5)
    for _ in range(40):
        actions = np.where(
            rng.random(mask.shape[:2]) < 0.7,
            (rng.random(mask.shape) * mask).argmax(-1),
            rng.integers(0, 7, mask.shape[:2]),
        )
        obs, mask, *_ = batched.step(actions)
        full_obs, full_mask = observe.observe(batched.state, zero_departed=True)
        np.testing.assert_array_equal(obs, full_obs)
        np.testing.assert_array_equal(mask, full_mask)
    assert batched.final_returns.any(), "some games ended and restarted on the way"


def test_serial_and_parallel_kernels_are_cached_apart():
    """numba's cache key ignores ``parallel``: under one name, one compilation served both."""
    pairs = [observe._KERNELS[name] for name in ("views", "masks", "update")]
    pairs.append((staghunt_env.rules._step_serial, staghunt_env.rules._step_parallel))
    for serial, parallel in pairs:
        assert not serial.targetoptions.get("parallel") and parallel.targetoptions["parallel"]
        assert serial.py_func.__code__ is parallel.py_func.__code__, "one source"
        assert serial.py_func.__qualname__ != parallel.py_func.__qualname__, "two cache entries"


def test_big_batches_run_the_serial_kernels_when_numba_has_one_thread():
    """One numba thread (tom_agents.threads' default) means no parallel region to wait on."""
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert not rules.use_parallel(10 * rules.PARALLEL_FROM)
        if numba.config.NUMBA_NUM_THREADS > 1:
            numba.set_num_threads(2)
            assert rules.use_parallel(rules.PARALLEL_FROM)
            assert not rules.use_parallel(rules.PARALLEL_FROM - 1)
    finally:
        numba.set_num_threads(before)
