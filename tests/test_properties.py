"""Properties of the PettingZoo envs over random configurations and random play (hypothesis)."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import staghunt_env
from staghunt_env import HUNT_HARE, HUNT_STAG, STAY, Catch, StagHuntConfig
from staghunt_env.rules import DOWN, LEFT, RIGHT, UP
from staghunt_env.spec import NUM_ACTIONS, goal_of_hunt, wall_channel

MOVES = {UP: (-1, 0), DOWN: (1, 0), LEFT: (0, -1), RIGHT: (0, 1)}
ONLY_STAY = [0, 0, 0, 0, 1, 0, 0]
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@st.composite
def configs(draw):
    n = draw(st.integers(2, 5))
    stags = draw(st.integers(0, 3))
    kwargs = {
        "num_players": n,
        "grid_size": (draw(st.integers(3, 10)), draw(st.integers(3, 10))),
        "num_stags": stags,
        "num_hares": draw(st.integers(0 if stags else 1, 5)),
        "max_block_components": draw(st.integers(0, 6)),
        "player_strength": draw(
            st.none() | st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=n, max_size=n)
        ),
        "prosocial": draw(st.booleans()),
        "time_reward": draw(st.sampled_from([0.0, 0.0, -0.1, 0.25])),
        "end_after_first_hunt": draw(st.none() | st.integers(0, 4)),
        # long episodes first: hypothesis favours early choices, and catches need time
        "max_cycles": draw(st.sampled_from([35, 20, 25, 30, 40, 50, 15, 3, 2, 1])),
    }
    try:
        StagHuntConfig.make(**kwargs)
    except ValueError:
        assume(False)
    return kwargs


# legal: under the mask, mostly heading for prey and hunting (or waiting for company) there,
# so that stags and hares do get caught; arbitrary: anything in 0..6; mixed: half and half
modes = st.sampled_from(["legal", "arbitrary", "mixed"])


def expected_mask(env, agent) -> np.ndarray:
    """The action mask recomputed from the rules engine's arrays (SPEC section 1, legality)."""
    game = env.game_state
    i = env.possible_agents.index(agent)
    r, c = (int(x) for x in game.pos[0, i])
    h, w = env.config.grid_size
    mask = np.zeros(7, dtype=np.int8)
    for action, (dr, dc) in MOVES.items():
        nr, nc = r + dr, c + dc
        mask[action] = 0 <= nr < h and 0 <= nc < w and not game.blocks[0, nr, nc]
    mask[STAY] = 1

    def on_cell(cells, alive):
        return any(live and (int(pr), int(pc)) == (r, c) for (pr, pc), live in zip(cells, alive))

    mask[HUNT_STAG] = on_cell(game.stag_pos[0], game.stag_alive[0])
    mask[HUNT_HARE] = on_cell(game.hare_pos[0], game.hare_alive[0])
    return mask


def choose(rng, mask, mode, game=None, i=None) -> int:
    """An action for player i: arbitrary, or legal and mostly heading for the nearest live prey."""
    if mode == "arbitrary" or (mode == "mixed" and rng.random() < 0.5):
        return int(rng.integers(0, NUM_ACTIONS))
    hunts = [a for a in (HUNT_STAG, HUNT_HARE) if mask[a]]
    if hunts:  # on prey: hunt, or wait there for company
        return int(rng.choice(hunts)) if rng.random() < 0.6 else STAY
    if game is not None and rng.random() < 0.7:
        prey = [
            cell
            for cells, alive in (
                (game.stag_pos[0], game.stag_alive[0]),
                (game.hare_pos[0], game.hare_alive[0]),
            )
            for cell, live in zip(cells, alive)
            if live
        ]
        if prey:
            here = game.pos[0, i].astype(int)
            target = min(prey, key=lambda cell: np.abs(cell - here).sum())
            closer = [
                a
                for a, step in MOVES.items()
                if mask[a] and np.abs(target - here - step).sum() < np.abs(target - here).sum()
            ]
            if closer:
                return int(rng.choice(closer))
    return int(rng.choice(np.flatnonzero(mask)))


def random_actions(env, rng, mode) -> dict:
    return {
        a: choose(rng, expected_mask(env, a), mode, env.game_state, env.possible_agents.index(a))
        for a in env.agents
    }


def assert_same(x, y, where="root"):
    """Exact, recursive equality of env outputs (dicts, lists, tuples, arrays, scalars)."""
    if isinstance(x, dict):
        assert isinstance(y, dict) and list(x) == list(y), (where, x, y)
        for k in x:
            assert_same(x[k], y[k], f"{where}[{k!r}]")
    elif isinstance(x, (list, tuple)):
        assert type(x) is type(y) and len(x) == len(y), (where, x, y)
        for k, (a, b) in enumerate(zip(x, y)):
            assert_same(a, b, f"{where}[{k}]")
    elif isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray) and x.dtype == y.dtype, (where, x, y)
        np.testing.assert_array_equal(x, y, err_msg=where)
    else:
        assert x == y and type(x) is type(y), (where, x, y)


def game_arrays(env) -> dict:
    return {k: v.copy() for k, v in env.game_state.arrays().items()}


# ---------------------------------------------------------------------------- drivers


def parallel_play(env, rng, mode, k):
    """k moves (a reset() without seed when the episode is over): the actions and every output."""
    log, records = [], []
    for _ in range(k):
        actions = random_actions(env, rng, mode) if env.agents else None
        log.append(actions)
        records.append(parallel_move(env, actions))
    return log, records


def parallel_move(env, actions):
    out = env.reset() if actions is None else env.step(actions)
    return copy.deepcopy((out, list(env.agents), env.state(), game_arrays(env)))


def parallel_replay(env, log):
    return [parallel_move(env, actions) for actions in log]


def aec_record(env):
    raw = env.unwrapped
    last = env.last() if env.agents else None
    return copy.deepcopy(
        (
            list(env.agents),
            env.agent_selection if env.agents else None,
            last,
            raw.rewards,
            raw._cumulative_rewards,
            raw.terminations,
            raw.truncations,
            raw.infos,
            raw.state(),
            game_arrays(raw._parallel),
        )
    )


def aec_play(env, rng, mode, k):
    log, records = [], []
    for _ in range(k):
        if not env.agents:
            action = "reset"
        else:
            observation, _, term, trunc, _ = env.last()
            game, i = (
                env.unwrapped._parallel.game_state,
                env.possible_agents.index(env.agent_selection),
            )
            mask = observation["action_mask"]
            action = None if term or trunc else choose(rng, mask, mode, game, i)
        log.append(action)
        records.append(aec_move(env, action))
    return log, records


def aec_move(env, action):
    if action == "reset":
        env.reset()
    else:
        env.step(action)
    return aec_record(env)


def aec_replay(env, log):
    return [aec_move(env, action) for action in log]


# ---------------------------------------------------------------------------- properties


@SETTINGS
@given(config=configs(), seed=st.integers(0, 2**32 - 1), mode=modes)
def test_masks_agree_with_legality(config, seed, mode):
    env = staghunt_env.parallel_env(**config)
    observations, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    while True:
        n = env.config.num_players
        state = env.state()
        for agent, observation in observations.items():
            mask = observation["action_mask"]
            assert mask.dtype == np.int8 and mask.shape == (7,)
            if agent in env.agents:
                np.testing.assert_array_equal(mask, expected_mask(env, agent), err_msg=agent)
                # the global grid agrees with the engine: the hunter stands where pos says
                i = env.possible_agents.index(agent)
                assert [tuple(x) for x in np.argwhere(state[..., i])] == [
                    tuple(int(v) for v in env.game_state.pos[0, i])
                ]
            else:  # its episode is over: it may only STAY
                assert list(mask) == ONLY_STAY, agent
        np.testing.assert_array_equal(state[..., wall_channel(n)], env.game_state.blocks[0])
        if not env.agents:
            break
        observations, *_ = env.step(random_actions(env, rng, mode))


@SETTINGS
@given(config=configs(), seed=st.integers(0, 2**32 - 1), mode=modes)
def test_masked_actions_run_as_stay(config, seed, mode):
    env = staghunt_env.parallel_env(**config)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    while env.agents:
        actions = random_actions(env, rng, mode)
        as_stay = {
            a: action if expected_mask(env, a)[action] else STAY for a, action in actions.items()
        }
        twin = env.clone()
        out = env.step(actions)
        twin_out = twin.step(as_stay)
        assert_same(out, twin_out)
        assert env.agents == twin.agents
        assert_same(game_arrays(env), game_arrays(twin))


@settings(SETTINGS, max_examples=400)
@given(config=configs(), seed=st.integers(0, 2**32 - 1), mode=modes)
def test_rewards_come_only_from_catches(config, seed, mode):
    env = staghunt_env.parallel_env(**config)
    env.reset(seed=seed)
    cfg = env.config
    rng = np.random.default_rng(seed)
    caught_any = {"stag": False, "hare": False, "shared hare": False}
    while env.agents:
        acting = list(env.agents)
        before = game_arrays(env)
        actions = random_actions(env, rng, mode)
        legal = {a: expected_mask(env, a)[actions[a]] for a in acting}
        _, rewards, term, trunc, infos = env.step(actions)
        after = env.game_state
        stags = int(before["stag_alive"].sum() - after.stag_alive.sum())
        hares = int(before["hare_alive"].sum() - after.hare_alive.sum())
        assert stags >= 0 and hares >= 0, "prey never respawn"
        caught_any["stag"] |= stags > 0
        caught_any["hare"] |= hares > 0
        assert set(rewards) == set(term) == set(trunc) == set(acting)
        caught = [a for a in acting if not after.alive[0, env.possible_agents.index(a)]]
        caught_any["shared hare"] |= sum(actions[a] == HUNT_HARE for a in caught) > hares
        for a in caught:
            assert term[a] and not trunc[a]
            assert actions[a] in (HUNT_STAG, HUNT_HARE) and legal[a], (a, actions[a])
        for a in acting:  # the info names the catch: the goal of the hunt that left the grid
            expected = Catch(goal_of_hunt(actions[a])) if a in caught else Catch.NOTHING
            assert infos[a] == {"t": int(after.t[0]), "caught": expected}, a
        stag_hunters = [a for a in caught if actions[a] == HUNT_STAG]
        assert len(stag_hunters) >= 2 * stags and (stags > 0) == bool(stag_hunters)
        assert len(caught) - len(stag_hunters) >= hares and (hares > 0) == (
            len(caught) > len(stag_hunters)
        )
        catch_value = cfg.stag_reward * stags + cfg.hare_reward * hares
        total = sum(rewards.values())
        assert total == pytest.approx(catch_value + cfg.time_reward * len(acting), abs=1e-4)
        if cfg.prosocial:
            mean = total / len(acting)
            for a in acting:
                assert rewards[a] == pytest.approx(mean, abs=1e-5)
        else:
            for a in acting:
                if a not in caught:
                    assert rewards[a] == pytest.approx(cfg.time_reward, abs=1e-6), a
            gains = sum(rewards[a] - cfg.time_reward for a in caught)
            assert gains == pytest.approx(catch_value, abs=1e-4)
            index = {a: env.possible_agents.index(a) for a in acting}
            for a in caught:  # a stag split by strength, a hare split equally, per cell
                cell = tuple(after.pos[0, index[a]])
                group = [
                    b
                    for b in caught
                    if actions[b] == actions[a] and tuple(after.pos[0, index[b]]) == cell
                ]
                if actions[a] == HUNT_STAG:
                    weights = cfg.strength[[index[b] for b in group]]
                    share = (
                        cfg.strength[index[a]] / weights.sum()
                        if weights.sum() > 0
                        else 1 / len(group)
                    )
                    expected = cfg.stag_reward * share
                else:
                    expected = cfg.hare_reward / len(group)
                assert rewards[a] == pytest.approx(expected + cfg.time_reward, abs=1e-5), a
            if cfg.time_reward == 0:
                assert total == pytest.approx(catch_value, abs=1e-4)
    event(", ".join(name for name, happened in caught_any.items() if happened) or "no catch")


@SETTINGS
@given(config=configs(), seed=st.integers(0, 2**32 - 1), mode=modes)
def test_agents_never_come_back(config, seed, mode):
    env = staghunt_env.parallel_env(**config)
    env.reset(seed=seed)
    n = env.config.num_players
    rng = np.random.default_rng(seed)
    departed: set[str] = set()
    while env.agents:
        acting = list(env.agents)
        observations, rewards, term, trunc, infos = env.step(random_actions(env, rng, mode))
        assert set(observations) == set(infos) == set(acting)
        assert all(a in acting for a in env.agents), "agents only shrinks"
        assert env.agents == [a for a in acting if not (term[a] or trunc[a])]
        assert not departed & set(observations), "a departed agent is back"
        departed |= set(acting) - set(env.agents)
        state = env.state()
        for j, agent in enumerate(env.possible_agents):
            if not env.game_state.alive[0, j]:  # caught something: gone from the grid
                assert agent in departed and not state[..., j].any()
        for observer, observation in observations.items():
            i = env.possible_agents.index(observer)
            grid = observation["observation"]
            for k in range(n):  # observer first, then the others in cyclic order
                np.testing.assert_array_equal(grid[..., k], state[..., (i + k) % n])
            np.testing.assert_array_equal(grid[..., n:], state[..., n:])
    assert env.step({}) == ({}, {}, {}, {}, {})
    assert env.agents == []


@SETTINGS
@given(
    config=configs(),
    seed=st.integers(0, 2**32 - 1),
    mode=modes,
    warmup=st.integers(0, 30),
    k=st.integers(1, 40),
)
def test_parallel_snapshots_replay_exactly(config, seed, mode, warmup, k):
    env = staghunt_env.parallel_env(**config)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    parallel_play(env, rng, mode, warmup)
    snapshot = env.get_state()
    kept = copy.deepcopy(snapshot)
    twin = env.clone()
    log, records = parallel_play(env, rng, mode, k)  # crosses episode ends: reset() uses the RNG
    assert_same(snapshot, kept)  # later play does not write into a snapshot
    env.set_state(snapshot)
    assert_same(parallel_replay(env, log), records)
    assert_same(parallel_replay(twin, log), records)
    fresh = staghunt_env.parallel_env(**config)
    fresh.set_state(pickle.loads(pickle.dumps(snapshot)))
    assert_same(parallel_replay(fresh, log), records)


@SETTINGS
@given(
    config=configs(),
    seed=st.integers(0, 2**32 - 1),
    mode=modes,
    warmup=st.integers(0, 60),
    k=st.integers(1, 80),
)
def test_aec_snapshots_replay_exactly(config, seed, mode, warmup, k):
    """Snapshots taken between single agents' turns carry the turn bookkeeping."""
    env = staghunt_env.raw_env(**config)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    aec_play(env, rng, mode, warmup)
    snapshot = env.get_state()
    here = aec_record(env)
    twin = env.clone()
    log, records = aec_play(env, rng, mode, k)
    env.set_state(snapshot)
    assert_same(aec_record(env), here)
    assert_same(aec_replay(env, log), records)
    assert_same(aec_replay(twin, log), records)
    fresh = staghunt_env.raw_env(**config)
    fresh.set_state(pickle.loads(pickle.dumps(snapshot)))
    assert_same(aec_replay(fresh, log), records)


@SETTINGS
@given(
    config=configs(),
    seed=st.integers(0, 2**32 - 1),
    mode=modes,
    kind=st.sampled_from(["parallel", "raw", "wrapped"]),
    warmup=st.integers(0, 40),
)
def test_pickle_and_deepcopy_keep_the_episode(config, seed, mode, kind, warmup):
    make, play, replay = {
        "parallel": (staghunt_env.parallel_env, parallel_play, parallel_replay),
        "raw": (staghunt_env.raw_env, aec_play, aec_replay),
        "wrapped": (staghunt_env.env, aec_play, aec_replay),
    }[kind]
    env = make(**config)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    play(env, rng, mode, warmup)
    pickled = pickle.loads(pickle.dumps(env))
    copied = copy.deepcopy(env)
    assert type(pickled) is type(env) and type(copied) is type(env)
    assert type(pickled.unwrapped) is type(env.unwrapped)
    log, records = play(env, rng, mode, 40)
    assert_same(replay(pickled, log), records)
    assert_same(replay(copied, log), records)
