"""Perception: co-players' actions read off two observations, and the game rebuilt from one."""

import numpy as np
import pytest

import staghunt_env
from staghunt_env import HUNT_HARE, HUNT_STAG, STAY, StagHuntConfig
from staghunt_env.observe import observe
from staghunt_env.rules import DOWN, LEFT, RIGHT, UP
from staghunt_env.rules import step as rules_step
from tom_agents.agents.scripted import first_step_towards
from tom_agents.perception import check_observation, explain_transition, state_from_observation

MOVES = {UP: (-1, 0), DOWN: (1, 0), LEFT: (0, -1), RIGHT: (0, 1)}


def grid(players, shape=(5, 5), n=2, blocks=(), stags=(), hares=()):
    """A focal agent's grid by hand: ``players`` maps channel k (0 = the focal) to a cell."""
    g = np.zeros((*shape, n + 3), dtype=np.int8)
    for k, (r, c) in players.items():
        g[r, c, k] = 1
    for channel, cells in ((n, blocks), (n + 1, stags), (n + 2, hares)):
        for r, c in cells:
            g[r, c, channel] = 1
    return g


def explained(explains_row) -> set[int]:
    return {int(a) for a in np.flatnonzero(explains_row)}


def both_paths(prev, now, true_actions):
    """explain_transition from the grids alone, checked equal to the true-action fast path."""
    slow = explain_transition(prev, now)
    fast = explain_transition(prev, now, np.asarray(true_actions))
    for s, f in zip(slow, fast):
        np.testing.assert_array_equal(s, f)
    return slow


# --------------------------------------------------------------------------- hand-made grids


@pytest.mark.parametrize("action", [UP, DOWN, LEFT, RIGHT])
def test_a_move_is_explained_by_exactly_that_move(action):
    dr, dc = MOVES[action]
    prev = grid({0: (0, 0), 1: (2, 2)}, hares=[(4, 4)])
    now = grid({0: (0, 0), 1: (2 + dr, 2 + dc)}, hares=[(4, 4)])
    explains, observed, caught = both_paths(prev, now, [action])
    assert explains.shape == (1, 7)
    assert explained(explains[0]) == {action}
    assert observed.tolist() == [True]
    assert caught.tolist() == [-1]


def test_each_co_player_seat_is_explained_on_its_own_row():
    # 4 players: seat 1 moves down, seat 2 stands still, seat 3 moves left; the focal moves too
    prev = grid({0: (0, 0), 1: (1, 1), 2: (3, 3), 3: (2, 4)}, n=4, hares=[(4, 0)])
    now = grid({0: (0, 1), 1: (2, 1), 2: (3, 3), 3: (2, 3)}, n=4, hares=[(4, 0)])
    explains, observed, caught = both_paths(prev, now, [DOWN, STAY, LEFT])
    assert explains.shape == (3, 7)
    assert explained(explains[0]) == {DOWN}
    assert explained(explains[1]) == {STAY, HUNT_STAG, HUNT_HARE}
    assert explained(explains[2]) == {LEFT}
    assert observed.all() and (caught == -1).all()


def test_standing_still_in_the_open_is_stay_or_an_illegal_action():
    prev = grid({0: (0, 0), 1: (2, 2)}, hares=[(4, 4)])
    now = prev.copy()
    explains, observed, caught = both_paths(prev, now, [STAY])
    # every move is legal; neither hunt is (no prey on the cell): sent anyway, they run as STAY
    assert explained(explains[0]) == {STAY, HUNT_STAG, HUNT_HARE}
    assert observed.tolist() == [True] and caught.tolist() == [-1]


def test_standing_still_against_walls_includes_the_blocked_moves():
    # co-player in the top-left corner, a wall to its right: only DOWN would have moved it
    prev = grid({0: (4, 4), 1: (0, 0)}, blocks=[(0, 1)], hares=[(4, 0)])
    explains, _, _ = both_paths(prev, prev.copy(), [RIGHT])
    assert explained(explains[0]) == {UP, LEFT, RIGHT, STAY, HUNT_STAG, HUNT_HARE}


def test_standing_still_on_a_stag_includes_hunting_it_alone():
    prev = grid({0: (4, 4), 1: (2, 2)}, stags=[(2, 2)], hares=[(4, 0)])
    explains, observed, caught = both_paths(prev, prev.copy(), [HUNT_STAG])
    assert explained(explains[0]) == {STAY, HUNT_STAG, HUNT_HARE}  # HUNT_HARE: illegal here
    assert observed.tolist() == [True] and caught.tolist() == [-1]


def test_standing_still_on_a_hare_excludes_hunting_it():
    # HUNT_HARE on a hare always catches it: standing still is STAY or the (illegal) HUNT_STAG
    prev = grid({0: (4, 4), 1: (2, 2)}, hares=[(2, 2)])
    explains, _, caught = both_paths(prev, prev.copy(), [STAY])
    assert explained(explains[0]) == {STAY, HUNT_STAG}
    assert caught.tolist() == [-1]


def test_leaving_with_a_vanished_stag_is_a_stag_hunt():
    prev = grid({0: (2, 3), 1: (2, 2), 2: (2, 2)}, n=3, stags=[(2, 2)], hares=[(0, 0)])
    now = grid({0: (2, 3)}, n=3, hares=[(0, 0)])  # seats 1 and 2 caught the stag together
    explains, observed, caught = both_paths(prev, now, [HUNT_STAG, HUNT_STAG])
    assert explained(explains[0]) == {HUNT_STAG} and explained(explains[1]) == {HUNT_STAG}
    assert observed.tolist() == [True, True]
    assert caught.tolist() == [0, 0]


def test_leaving_with_a_vanished_hare_is_a_hare_hunt():
    prev = grid({0: (2, 3), 1: (4, 4), 2: (0, 0)}, n=3, stags=[(2, 2)], hares=[(4, 4), (1, 1)])
    now = grid({0: (2, 3), 2: (0, 1)}, n=3, stags=[(2, 2)], hares=[(1, 1)])
    explains, observed, caught = both_paths(prev, now, [HUNT_HARE, RIGHT])
    assert explained(explains[0]) == {HUNT_HARE}
    assert explained(explains[1]) == {RIGHT}
    assert caught.tolist() == [1, -1]


def test_a_co_player_absent_before_is_not_observed():
    prev = grid({0: (0, 0), 2: (3, 3)}, n=3, hares=[(4, 4)])  # seat 1 already left
    now = grid({0: (0, 1), 2: (3, 3)}, n=3, hares=[(4, 4)])
    explains, observed, caught = both_paths(prev, now, [STAY, STAY])
    assert observed.tolist() == [False, True]
    assert not explains[0].any()
    assert caught.tolist() == [-1, -1]


# --------------------------------------------------------------------------- random episodes


def random_config(rng: np.random.Generator) -> dict:
    rows, cols = int(rng.integers(5, 9)), int(rng.integers(5, 9))
    return {
        "num_players": int(rng.integers(2, 6)),
        "num_stags": int(rng.integers(1, 3)),
        "num_hares": int(rng.integers(1, 5)),
        "grid_size": (rows, cols),
        "max_block_components": int(rng.integers(0, 4)),
        "max_cycles": 25,
    }


def random_legal_action(rng, observation) -> int:
    """Random legal play, lured to prey so that catches happen: a legal hunt half of the time,
    else a step towards the nearest stag half of the time, else uniform among legal actions."""
    mask, g = observation["action_mask"], observation["observation"]
    hunts = [a for a in (HUNT_STAG, HUNT_HARE) if mask[a]]
    if hunts and rng.random() < 0.5:
        return int(rng.choice(hunts))
    if rng.random() < 0.5:
        move = first_step_towards(g, g[..., g.shape[-1] - 2].astype(bool))
        if move is not None and move < STAY:
            return move
    return int(rng.choice(np.flatnonzero(mask)))


def random_any_action(rng, observation) -> int:
    """Masks ignored (as SB3 does): an illegal action runs as STAY."""
    return int(rng.integers(7))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("play", [random_legal_action, random_any_action])
def test_explanations_from_observations_equal_the_true_action_path(play, seed):
    rng = np.random.default_rng(seed)
    counts = {"moves": 0, "still": 0, "stag": 0, "hare": 0}
    for _ in range(8):
        env = staghunt_env.parallel_env(**random_config(rng))
        n = env.config.num_players
        observations, _ = env.reset(seed=int(rng.integers(2**31)))
        while env.agents:
            acting = list(env.agents)
            actions = {a: play(rng, observations[a]) for a in acting}
            joint = np.full(n, STAY)
            for a, act in actions.items():
                joint[int(a[7:])] = act
            new_observations, *_ = env.step(actions)
            for a in acting:
                focal = int(a[7:])
                prev = observations[a]["observation"]
                now = new_observations[a]["observation"]
                seats = (focal + np.arange(1, n)) % n
                slow = explain_transition(prev, now)
                fast = explain_transition(prev, now, joint[seats])
                for s, f in zip(slow, fast):
                    np.testing.assert_array_equal(s, f)
                explains, observed, caught = slow
                for k, j in enumerate(seats):
                    assert observed[k] == (f"hunter_{j}" in acting)
                    if observed[k]:
                        assert explains[k, joint[j]], (seed, focal, j, joint[j], explains[k])
                        counts["moves" if explains[k].sum() == 1 else "still"] += 1
                    if caught[k] >= 0:
                        counts["stag" if caught[k] == 0 else "hare"] += 1
                        assert joint[j] == (HUNT_STAG if caught[k] == 0 else HUNT_HARE)
            observations = new_observations
    # the random play covered every kind of transition
    if play is random_legal_action:
        assert all(v > 0 for v in counts.values()), counts
    else:
        assert counts["moves"] > 0 and counts["still"] > 0, counts


@pytest.mark.parametrize("seed", range(4))
def test_state_from_observation_reproduces_the_envs_game(seed):
    rng = np.random.default_rng(100 + seed)
    config = random_config(rng)
    env = staghunt_env.parallel_env(**config)
    observations, infos = env.reset(seed=seed)
    checked = 0
    while env.agents:
        acting = list(env.agents)
        actions = {a: random_legal_action(rng, observations[a]) for a in acting}
        joint = np.full((1, env.config.num_players), STAY, dtype=np.int64)
        for a, act in actions.items():
            joint[0, int(a[7:])] = act
        new_observations, rewards, _, _, new_infos = env.step(actions)
        for a in acting:
            focal = int(a[7:])
            obs = observations[a]
            state = state_from_observation(
                env.config, obs["observation"], infos[a]["t"], focal, first_hunt=-1
            )
            grids, masks = observe(state)
            np.testing.assert_array_equal(grids[0, focal], obs["observation"])
            np.testing.assert_array_equal(masks[0, focal], obs["action_mask"])
            # the rebuilt game steps like the env's game: same next view and same reward
            after, r, _, _, _ = rules_step(env.config, state, joint)
            np.testing.assert_array_equal(
                observe(after)[0][0, focal], new_observations[a]["observation"]
            )
            assert r[0, focal] == pytest.approx(rewards[a])
            assert after.t[0] == new_infos[a]["t"]
            checked += 1
        observations, infos = new_observations, new_infos
    assert checked > 0


def test_state_from_observation_refuses_more_prey_than_configured():
    config = StagHuntConfig.make(num_players=2, num_stags=1, num_hares=1, grid_size=(5, 5))
    g = grid({0: (0, 0), 1: (1, 1)}, stags=[(2, 2), (3, 3)], hares=[(4, 4)])
    with pytest.raises(ValueError, match="num_stags"):
        state_from_observation(config, g, 0, 0)


# --------------------------------------------------------------------------- check_observation


def test_check_observation_accepts_the_envs_observation():
    env = staghunt_env.parallel_env()
    observations, _ = env.reset(seed=0)
    g, mask = check_observation(env.config, observations["hunter_1"])
    np.testing.assert_array_equal(g, observations["hunter_1"]["observation"])
    np.testing.assert_array_equal(mask, observations["hunter_1"]["action_mask"])


def test_check_observation_errors_name_what_does_not_fit():
    config = StagHuntConfig.make()  # 4 players, 8 x 8: grids (8, 8, 7)
    good = {"observation": np.zeros((8, 8, 7), np.int8), "action_mask": np.ones(7, np.int8)}
    with pytest.raises(ValueError, match="grid_size"):
        check_observation(config, {**good, "observation": np.zeros((6, 6, 7), np.int8)})
    with pytest.raises(ValueError, match="num_players"):
        check_observation(config, {**good, "observation": np.zeros((8, 8, 6), np.int8)})
    with pytest.raises(ValueError, match="action_mask"):
        check_observation(config, {**good, "action_mask": np.ones(6, np.int8)})
    with pytest.raises(ValueError, match="observation"):
        check_observation(config, good["observation"])  # the bare grid, not the dict
    with pytest.raises(ValueError, match="action_mask"):
        check_observation(config, {"observation": good["observation"]})
