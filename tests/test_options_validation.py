"""Strict types for every setting (tom_agents.value_types): SelfPlayConfig, PlannerOptions,
PPOConfig and the arena's options refuse a value of the wrong type by name, from Python and
from the command line (a usage error, exit status 2, no traceback). Parsing only: nothing trains.
"""

from __future__ import annotations

import pytest

from tom_agents.arena import cli as arena_cli
from tom_agents.arena import play
from tom_agents.cli_args import parse_key_values
from tom_agents.planner.options import PlannerOptions
from tom_agents.ppo import PPOConfig
from tom_agents.ppo import train as ppo_train
from tom_agents.selfplay import cli as selfplay_cli
from tom_agents.selfplay.config import SelfPlayConfig
from tom_agents.value_types import Word, check_value

MAINS = {
    "tom-selfplay": (selfplay_cli.main, []),
    "tom-arena": (arena_cli.main, ["random", "random"]),
    "tom-train-ppo": (ppo_train.main, []),
}


def usage_error(capsys, script: str, argv: list[str]) -> str:
    """``script`` refuses ``argv`` as a usage error (exit status 2); the message, one line."""
    main, lineup = MAINS[script]
    with pytest.raises(SystemExit) as exit_info:
        main([*lineup, *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"{script}: error: " in err and "Traceback" not in err, err
    return err.splitlines()[-1]


# ------------------------------------------------------------------ the command line


@pytest.mark.parametrize(
    "script,setting,key",
    [
        ("tom-selfplay", "share_networks=no", "share_networks"),
        ("tom-selfplay", "ranked_rewards=yes", "ranked_rewards"),
        ("tom-selfplay", "progress=no", "progress"),
        ("tom-arena", "greedy=no", "planner.greedy"),
        ("tom-train-ppo", "prosocial=no", "prosocial"),
        ("tom-train-ppo", "progress=0", "progress"),
    ],
)
def test_cli_set_bool_word_no_refused(capsys, script, setting, key):
    message = usage_error(capsys, script, ["--set", setting])
    assert f"{key} must be true or false" in message, message


@pytest.mark.parametrize("script", sorted(MAINS))
def test_cli_env_prosocial_no_refused_naming_prosocial(capsys, script):
    assert "prosocial" in usage_error(capsys, script, ["--env", "prosocial=no"])


def test_cli_bool_words_true_and_false_are_read_in_any_case():
    config, _ = selfplay_cli.parse_args(
        ["--set", "share_networks=False", "--env", "prosocial=TRUE"]
    )
    assert config.share_networks is False and config.env["prosocial"] is True
    config, _ = ppo_train.parse_args(["--set", "prosocial=True", "--set", "progress=false"])
    assert config.prosocial is True and config.progress is False


def test_cli_unreadable_text_is_never_a_bare_string():
    values = parse_key_values(["a=no", "b=1", "c=cuda:1", 'd="no"'])
    assert isinstance(values["a"], Word) and isinstance(values["c"], Word)
    assert not isinstance(values["d"], Word), "quoted text is TOML: a string"
    for annotation in (bool, int, float, tuple[int, int], int | None):
        with pytest.raises(ValueError, match="got 'no'"):
            check_value("key", values["a"], annotation, "--set")
    assert check_value("key", values["c"], str, "--set") == "cuda:1"
    assert type(check_value("key", values["c"], str, "--set")) is str


@pytest.mark.parametrize(
    "argv,key",
    [
        (["--set", "seed=abc"], "seed must be an integer, got 'abc'"),
        (["--set", "lr=abc"], "planner.lr must be a finite number, got 'abc'"),
        (["--set", "channels=5"], "planner.channels must be a list of 3 values"),
        (["--set", "hidden=-4"], "planner.hidden must be >= 1, got -4"),
        (["--set", "planner.num_simulations=1.5"], "planner.num_simulations must be an integer"),
        (["--set", "iterations=1e3"], "iterations must be an integer"),
        (["--set", "name=''"], "name must name a folder"),
        (["--set", "name='../elsewhere'"], "name must name a folder"),
        (["--device", "bogus"], "argument --device: device must be auto, cpu, cuda or cuda:N"),
        (["--set", "device=bogus"], "device must be auto, cpu, cuda or cuda:N, got 'bogus'"),
        (["--set", "bogus=1"], "unknown key 'bogus'"),
        (["--workers", "-1"], "workers must be >= 0"),
    ],
)
def test_selfplay_config_errors_are_usage_errors_naming_the_key(capsys, argv, key):
    assert key in usage_error(capsys, "tom-selfplay", argv)


@pytest.mark.parametrize(
    "argv,key",
    [
        (["--set", "learning_rate=abc"], "learning_rate must be a finite number, got 'abc'"),
        (["--set", "net_arch=5"], "net_arch must be a list of values, each an integer"),
        (["--set", "seed=-3"], "seed: must be >= 0"),
        (["--set", "device=bogus"], "device must be auto, cpu, cuda or cuda:N, got 'bogus'"),
        (["--device", "bogus"], "argument --device"),
        (["--timesteps", "0"], "total_timesteps: must be > 0"),
        (["--set", "bogus=1"], "unknown key 'bogus'"),
    ],
)
def test_ppo_config_errors_are_usage_errors_naming_the_key(capsys, argv, key):
    assert key in usage_error(capsys, "tom-train-ppo", argv)


@pytest.mark.parametrize(
    "argv,key",
    [
        (["--set", "num_simulations=1.5"], "planner.num_simulations must be an integer"),
        (["--set", "c_puct=abc"], "planner.c_puct must be a finite number, got 'abc'"),
        (["--episodes", "0"], "episodes must be a positive integer"),
        (["--workers", "-1"], "workers must be a non-negative integer"),
        (["--device", "bogus"], "argument --device"),
        (["--set", "iterations=3"], "unknown key 'iterations'"),
    ],
)
def test_arena_option_errors_are_usage_errors_naming_the_key(capsys, tmp_path, argv, key):
    assert key in usage_error(capsys, "tom-arena", [*argv, "--out", str(tmp_path / "a")])


# ------------------------------------------------------------------ Python


@pytest.mark.parametrize(
    "options,message",
    [
        ({"num_simulations": 1.5}, "num_simulations must be an integer, got 1.5"),
        ({"num_trees": True}, "num_trees must be an integer, got True"),
        ({"greedy": "no"}, "greedy must be true or false, got 'no'"),
        ({"greedy": 1}, "greedy must be true or false, got 1"),
        ({"lr": float("nan")}, "lr must be a finite number, got nan"),
        ({"c_puct": "1.0"}, "c_puct must be a finite number"),
        ({"channels": 5}, "channels must be a list of 3 values, each an integer"),
        ({"channels": (4, 8, 8.5)}, "channels must be a list of 3 values"),
        ({"opponent_model": 3}, "opponent_model must be a string"),
    ],
)
def test_planner_options_types_are_strict(options, message):
    with pytest.raises(ValueError, match=f"PlannerOptions: {message}"):
        PlannerOptions(**options)


def test_planner_options_normalise_lists_and_plain_numbers():
    import numpy as np

    options = PlannerOptions(channels=[4, 8, 8], lr=1, num_simulations=np.int64(7))
    assert options.channels == (4, 8, 8) and type(options.lr) is float
    assert type(options.num_simulations) is int and options.num_simulations == 7


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"prosocial": "no"}, "prosocial must be true or false"),
        ({"progress": 1}, "progress must be true or false"),
        ({"learning_rate": "abc"}, "learning_rate must be a finite number"),
        ({"gamma": float("inf")}, "gamma must be a finite number"),
        ({"total_timesteps": 1.5}, "total_timesteps must be an integer"),
        ({"net_arch": [64, 0.5]}, "net_arch must be a list of values, each an integer"),
        ({"env": {"prosocial": "no"}}, "env.prosocial must be true or false"),
        ({"device": "bogus"}, r"PPOConfig\.device must be auto"),
        ({"out": 3}, "out must be a string"),
    ],
)
def test_ppo_config_types_are_strict(fields, message):
    with pytest.raises(ValueError, match=message):
        PPOConfig(**fields)


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"seed": "abc"}, "seed must be an integer"),
        ({"share_networks": "no"}, "share_networks must be true or false"),
        ({"ranked_percentile": float("nan")}, "ranked_percentile must be a finite number"),
        ({"device": "bogus"}, r"SelfPlayConfig\.device must be auto"),
        ({"name": "../x"}, r"SelfPlayConfig\.name must name a folder"),
        ({"planner": {"num_simulations": 1.5}}, "planner.num_simulations must be an integer"),
    ],
)
def test_selfplay_config_types_are_strict(fields, message):
    with pytest.raises(ValueError, match=message):
        SelfPlayConfig(**fields)


@pytest.mark.parametrize(
    "options,message",
    [
        ({"record_frames": "no"}, "play: record_frames must be true or false"),
        ({"record_frames": 1}, "play: record_frames must be true or false"),
        ({"device": "bogus"}, "device must be auto"),
        ({"network_seed": 1.5}, "network_seed must be a non-negative integer"),
        ({"planner_options": {"num_simulations": 2.5}}, "num_simulations must be an integer"),
    ],
)
def test_arena_play_options_are_strict(options, message):
    with pytest.raises(ValueError, match=message):
        play(["hop", "random"], 1, [0], {"grid_size": (5, 5)}, progress=False, **options)
