"""The arena: exact outcomes of scripted matches, HOP's beliefs, outputs on disk, seeds and bad input."""

import csv

import numpy as np
import pytest
from PIL import Image

from tom_agents import make_agent
from tom_agents.arena import play, write_outputs
from tom_agents.arena.cli import main as arena_main

# Two stag hunters two steps from the stag; hare hunters one and two steps from their hares.
TWO_HUNTS = ["0.S.1", ".....", "H...H", "2....", "....3"]
# A lone stag hunter: the three hares go in step 2, then no catchable prey is left.
LONE_STAG = ["0.S.H", "....3", "H....", "1...H", "....2"]
SMALL = {"num_simulations": 8, "num_trees": 2}


def test_scripted_match_gives_the_rewards_the_rules_imply():
    lineup = ["nearest_stag", "nearest_stag", "nearest_hare", "nearest_hare"]
    result = play(
        lineup, episodes=3, seeds=[0, 1], env_config={"layout": TWO_HUNTS}, progress=False
    )
    # the stag (10) is split by its two hunters in step 3; hares (1) go in steps 2 and 3
    assert (result.rewards == [5.0, 5.0, 1.0, 1.0]).all()
    assert (result.caught == [0, 0, 1, 1]).all()
    assert (result.catch_step == [3, 3, 2, 3]).all()
    assert np.isnan(result.prior).all() and np.isnan(result.belief).all()  # no beliefs held


def test_lone_stag_hunter_catches_nothing_and_the_game_ends_with_the_hares():
    lineup = ["nearest_stag", "nearest_hare", "nearest_hare", "nearest_hare"]
    result = play(lineup, episodes=2, seeds=[3], env_config={"layout": LONE_STAG}, progress=False)
    assert (result.rewards == [0.0, 1.0, 1.0, 1.0]).all()
    assert (result.caught == [-1, 1, 1, 1]).all()
    assert (result.catch_step == [-1, 2, 2, 2]).all()
    rows = result.rows()
    assert [r["caught"] for r in rows[:4]] == ["nothing", "hare", "hare", "hare"]


def test_hop_beliefs_converge_to_each_coplayers_goal():
    # hop in seat 2: its co-players are hunter_0 and hunter_3 (nearest_stag), hunter_1 (nearest_hare)
    lineup = ["nearest_stag", "nearest_hare", "hop", "nearest_stag"]
    result = play(lineup, episodes=5, seeds=range(6), planner_options=SMALL, progress=False)
    prior = result.prior[:, :, 2]  # (M, K, seat): hop's P(stag) at each episode's start
    assert (prior[:, 0, [0, 1, 3]] == 0.5).all()  # nothing known before the first episode
    assert np.isnan(prior[:, :, 2]).all()  # no belief about itself
    # nearest_stag hunts the stag, then acts at random (it may stumble on a hare); nearest_hare
    # the reverse: the beliefs lean far towards each co-player's own goal
    assert prior[:, -1, 0].mean() > 0.8 and prior[:, -1, 3].mean() > 0.8
    assert prior[:, -1, 1].mean() < 0.2
    assert (prior[:, 1:, [0, 3]] >= 0.5).all() and (prior[:, 1:, 1] <= 0.5).all()
    # within an episode: once a co-player caught its prey before hop's last decision, hop is sure
    final = result.belief[:, :, 2]
    steps = result.catch_step
    hop_last = np.where(steps[:, :, 2] > 0, steps[:, :, 2], result.config.max_cycles)
    for j, goal in ((0, 1.0), (1, 0.0), (3, 1.0)):
        caught_first = (steps[:, :, j] > 0) & (steps[:, :, j] < hop_last)
        assert caught_first.any()
        assert (final[:, :, j][caught_first] == goal).all()
    assert np.isnan(result.prior[:, :, [0, 1, 3]]).all()  # scripted agents hold no beliefs


def test_outputs_exist_and_parse(tmp_path):
    lineup = ["hop", "nearest_stag", "nearest_hare", "random"]
    result = play(
        lineup,
        episodes=2,
        seeds=[5, 6, 7],
        env_config={"grid_size": (6, 6), "max_cycles": 12},
        planner_options=SMALL,
        record_frames=True,
        progress=False,
    )
    paths = write_outputs(result, tmp_path / "out")
    with open(paths["csv"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 * 2 * 4
    assert {r["agent"] for r in rows} == set(lineup)
    assert {r["caught"] for r in rows} <= {"stag", "hare", "nothing"}
    for r in rows:
        assert (
            float(r["reward"])
            == result.rewards[int(r["match"]), int(r["episode"]) - 1, int(r["seat"])]
        )
    hop_rows = [r for r in rows if r["agent"] == "hop"]
    assert all(0.0 <= float(r["belief_stag_hunter_1"]) <= 1.0 for r in hop_rows)
    assert all(r["belief_stag_hunter_0"] == "" for r in hop_rows)
    text = paths["markdown"].read_text()
    table = [line for line in text.splitlines() if line.startswith("| hop |")]
    assert len(table) == 1 and "[" in table[0]
    assert sum(line.startswith("| 2 |") for line in text.splitlines()) == 1  # episode index rows
    with Image.open(paths["plot"]) as png:
        assert png.format == "PNG" and png.size[0] > 100
    with Image.open(paths["gif_0"]) as gif:
        # one frame per step (the writer merges identical consecutive frames)
        assert 2 <= gif.n_frames <= len(result.replays[0].frames) <= 1 + 12
        assert gif.info["duration"] == 250  # 4 frames per second


def test_lineups_on_the_same_seeds_meet_the_same_layouts_and_runs_repeat():
    config = {"grid_size": (6, 6), "max_cycles": 10}
    a = play(["random"] * 4, 2, [11, 12], env_config=config, record_frames=True, progress=False)
    b = play(
        ["nearest_prey"] * 4, 2, [11, 12], env_config=config, record_frames=True, progress=False
    )
    for k in range(2):
        assert np.array_equal(a.replays[k].frames[0], b.replays[k].frames[0])
    assert not np.array_equal(
        a.replays[0].frames[0], a.replays[1].frames[0]
    )  # each episode its own layout
    again = play(["random"] * 4, 2, [11, 12], env_config=config, progress=False)
    for key in ("rewards", "caught", "catch_step"):
        assert np.array_equal(getattr(a, key), getattr(again, key))


def test_a_match_alone_equals_the_same_match_played_beside_others():
    lineup = ["hop", "nearest_stag", "random", "nearest_hare"]
    config = {"grid_size": (6, 6), "max_cycles": 10}
    together = play(lineup, 2, [1, 2, 3], env_config=config, planner_options=SMALL, progress=False)
    alone = play(lineup, 2, [2], env_config=config, planner_options=SMALL, progress=False)
    assert np.array_equal(together.rewards[1:2], alone.rewards)
    assert np.array_equal(together.caught[1:2], alone.caught)
    assert np.array_equal(together.prior[1:2], alone.prior, equal_nan=True)


def test_checkpoint_spec_plays_a_saved_planner_as_the_same_agent(tmp_path):
    config = {"grid_size": (6, 6), "max_cycles": 10}
    make_agent("direct_om", config, seed=0, device="cpu").save(tmp_path / "dom.safetensors")
    others = ["nearest_stag", "nearest_hare", "random"]
    loaded = play(
        [f"checkpoint:{tmp_path / 'dom.safetensors'}", *others],
        2,
        [0, 1],
        planner_options=SMALL,
        progress=False,
    )
    assert loaded.config.grid_size == (6, 6)  # the game comes from the checkpoint
    # the arena's direct_om gets its networks from network_seed 0, as the saved agent did
    named = play(["direct_om", *others], 2, [0, 1], config, planner_options=SMALL, progress=False)
    assert np.array_equal(loaded.rewards, named.rewards)
    assert np.array_equal(loaded.catch_step, named.catch_step)
    assert np.isnan(loaded.prior).all()  # direct-OM models actions, not goals


def test_checkpoint_spec_plays_a_selfplay_run_seat_by_seat(tmp_path):
    from test_selfplay import tiny_config

    from tom_agents.selfplay import train

    config = tiny_config(
        tmp_path, "dom", "iterations=1", "eval_episodes=0", 'opponent_model="goal_free"'
    )
    train(config)
    (path,) = (tmp_path / "dom" / "checkpoints").iterdir()
    result = play([f"checkpoint:{path}"] * 2, 3, [0, 1], progress=False)
    assert result.config.num_players == 2 and result.rewards.shape == (2, 3, 2)
    assert np.isfinite(result.rewards).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lineup": ["hop", "no_such_agent"]}, "unknown agent spec 'no_such_agent'"),
        ({"lineup": ["random"] * 3}, "the lineup has 3 agents but the game has 2 hunters"),
        ({"episodes": 0}, "episodes must be a positive integer"),
        ({"seeds": [1, 1]}, "seeds must be distinct"),
        ({"seeds": []}, "at least one match"),
        ({"lineup": ["checkpoint:/no/such/file.pt", "random"]}, "/no/such/file.pt"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"lineup": ["random", "random"], "episodes": 1, "seeds": [0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        play(**args, env_config={"num_players": 2, "grid_size": (5, 5)}, progress=False)


def test_a_file_that_is_no_checkpoint_is_named(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"notes\.pt.*not a safetensors file"):
        play([f"checkpoint:{path}", "random"], 1, [0], progress=False)


def test_ray_workers_give_the_same_matches():
    lineup = ["nearest_stag", "random", "hop", "random"]
    config = {"grid_size": (6, 6), "max_cycles": 10}
    local = play(lineup, 2, range(4), config, planner_options=SMALL, progress=False)
    spread = play(lineup, 2, range(4), config, planner_options=SMALL, workers=2, progress=False)
    assert spread.seeds == local.seeds
    for key in ("rewards", "caught", "catch_step", "prior", "belief"):
        assert np.array_equal(getattr(spread, key), getattr(local, key), equal_nan=True)


def test_device_and_game_defaults_fit_any_lineup():
    # scripted agents take no device; a game given without num_players gets one hunter per seat
    result = play(
        ["random", "hop"], 1, [0], {"grid_size": (5, 5)}, SMALL, device="cpu", progress=False
    )
    assert result.config.num_players == 2 and result.config.grid_size == (5, 5)


def test_planner_checkpoints_keep_their_options_under_the_arenas(tmp_path):
    from tom_agents.seat_specs import agent_source

    config = {"grid_size": (6, 6), "max_cycles": 10}
    make_agent("hop", config, opponent_model="scripted", beta=5.0, num_simulations=7).save(
        tmp_path / "hop.safetensors"
    )
    source = agent_source(
        f"checkpoint:{tmp_path / 'hop.safetensors'}", make_agent("random", config).config
    )
    assert (source(0, 1).options.beta, source(0, 1).options.num_simulations) == (5.0, 7)
    assert source(0, 1).options.opponent_model == "scripted"
    source = agent_source(
        f"checkpoint:{tmp_path / 'hop.safetensors'}",
        make_agent("random", config).config,
        planner_options=SMALL,
    )
    agent = source(0, 1)
    assert (agent.options.beta, agent.options.num_simulations, agent.options.num_trees) == (
        5.0,
        8,
        2,
    )
    assert agent.options.learn_opponents is False  # networks stay frozen in the arena
    with pytest.raises(ValueError, match="belong to the shared networks"):
        agent.follower(0, lr=1.0)
    with pytest.raises(ValueError, match="unknown planner option"):
        agent.follower(0, num_simulation=3)
    assert agent.follower(0, channels=agent.options.channels).options == agent.options


def test_cli_writes_the_outputs(tmp_path, capsys):
    out = tmp_path / "arena"
    lineup = ["nearest_stag", "nearest_stag", "random", "nearest_hare"]
    options = ["--episodes", "2", "--matches", "2", "--env", "grid_size=[5,5]", "--no-progress"]
    arena_main([*lineup, *options, "--out", str(out)])
    assert {p.name for p in out.iterdir()} == {"episodes.csv", "summary.md", "rewards.png"}
    assert "| nearest_stag | 0,1 |" in capsys.readouterr().out


def test_cli_progress_names_its_phases_on_stderr_and_no_progress_is_quiet(tmp_path, capsys):
    options = ["random", "random", "--episodes", "2", "--matches", "2", "--env", "grid_size=[5,5]"]
    arena_main([*options, "--out", str(tmp_path / "shown")])
    err = capsys.readouterr().err
    assert "arena: loading agents" in err and "arena: playing episode 2 of 2" in err
    assert "4/4" in err
    arena_main([*options, "--out", str(tmp_path / "quiet"), "--no-progress"])
    assert capsys.readouterr().err == ""
