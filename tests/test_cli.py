"""One configuration style: every console script parses ``--env``/``--set``/``--config``/``--seed``/
``--device``/``--no-progress`` the same way, and a value it cannot read is a usage error (exit
status 2) naming the key. Parsing, and the one progress display the scripts share.
"""

from __future__ import annotations

import dataclasses
import json
import sys

import pytest

from tom_agents.arena import cli as arena_cli
from tom_agents.cli_args import RunOptions, parse_key_values
from tom_agents.demo import main as demo_main
from tom_agents.demo import parse_args as demo_args
from tom_agents.planner.options import PlannerOptions
from tom_agents.ppo import train as ppo_train
from tom_agents.selfplay import cli as selfplay_cli
from tom_agents.selfplay.config import SelfPlayConfig, load_config, preset, to_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

MAINS = {
    "tom-selfplay": (selfplay_cli.main, []),
    "tom-arena": (arena_cli.main, ["random", "random"]),
    "tom-train-ppo": (ppo_train.main, []),
    "staghunt-demo": (demo_main, []),
}
# (--env value, the key the error must name); each is a value StagHuntConfig would coerce.
BAD_ENV = [
    ("prosocial=no", "prosocial"),
    ("prosocial=1", "prosocial"),
    ("grid_size=55", "grid_size"),
    ('grid_size="55"', "grid_size"),
    ("grid_size=[5.7, 5]", "grid_size"),
    ("grid_size=[5, 5, 5]", "grid_size"),
    ("end_after_first_hunt=2.5", "end_after_first_hunt"),
    ("stag_reward=nan", "stag_reward"),
    ("hare_reward=inf", "hare_reward"),
    ("player_strength=[1, inf]", "player_strength"),
    ("max_cycles=abc", "max_cycles"),
    ("bogus_key=1", "bogus_key"),
    ("grid_size", "key=value"),
]


def usage_error(capsys, main, argv) -> str:
    """Run ``main(argv)``, assert it is a usage error (exit status 2), return the message."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("script", sorted(MAINS))
@pytest.mark.parametrize("value,key", BAD_ENV)
def test_every_script_refuses_a_bad_env_value_naming_the_key(capsys, script, value, key):
    main, argv = MAINS[script]
    message = usage_error(capsys, main, [*argv, "--env", value])
    assert key in message and script in message, message


@pytest.mark.parametrize("script", sorted(MAINS))
@pytest.mark.parametrize("option", ["--seed=abc", "--seed=-1", "--seed=1.5"])
def test_every_script_refuses_a_bad_seed(capsys, script, option):
    main, argv = MAINS[script]
    assert "--seed" in usage_error(capsys, main, [*argv, option])


@pytest.mark.parametrize("script", ["tom-selfplay", "tom-arena", "tom-train-ppo"])
def test_scripts_with_a_device_refuse_a_bogus_one(capsys, script):
    main, argv = MAINS[script]
    message = usage_error(capsys, main, [*argv, "--device", "bogus"])
    assert "--device" in message and "bogus" in message


@pytest.mark.parametrize(
    "setting,key,expected",
    [
        ("share_networks=no", "share_networks", "true or false"),
        ("share_networks=1", "share_networks", "true or false"),
        ("progress=yes", "progress", "true or false"),
        ("iterations=abc", "iterations", "an integer"),
        ("iterations=2.5", "iterations", "an integer"),
        ("iterations=true", "iterations", "an integer"),
        ("seed=abc", "seed", "an integer"),
        ("lr=abc", "planner.lr", "a finite number"),
        ("planner.lr=nan", "planner.lr", "a finite number"),
        ("ranked_percentile=inf", "ranked_percentile", "a finite number"),
        ("channels=5", "planner.channels", "a list of 3 values"),
        ("planner.channels=[4, 8]", "planner.channels", "a list of 3 values"),
        ("num_simulations=2.5", "planner.num_simulations", "an integer"),
        ("env.prosocial=no", "env.prosocial", "true or false"),
        ("planner=3", "planner", "a table"),
        ("planner.bogus=1", "planner.bogus", "unknown key"),
        ("bogus.key=1", "bogus.key", "unknown key"),
        ("name=1", "name", "a string"),
        ("iterations=0", "iterations", ">= 1"),
        ("hidden=-4", "planner.hidden", ">= 1"),
        ("opponent_model='scripted'", "opponent_model", "learned"),
        ("learn_opponents=true", "learn_opponents", "false"),
        ("device='bogus'", "device", "cuda"),
    ],
)
def test_selfplay_refuses_a_bad_setting_naming_the_key_and_the_type(capsys, setting, key, expected):
    message = usage_error(capsys, selfplay_cli.main, ["--set", setting])
    assert key in message and expected in message, message


def test_selfplay_refuses_one_option_given_flat_and_dotted(capsys):
    argv = ["--set", "num_simulations=4", "--set", "planner.num_simulations=8"]
    assert "planner.num_simulations is given twice" in usage_error(capsys, selfplay_cli.main, argv)


def test_a_missing_or_malformed_config_file_is_a_usage_error_naming_it(capsys, tmp_path):
    missing = tmp_path / "missing.toml"
    assert str(missing) in usage_error(capsys, selfplay_cli.main, ["--config", str(missing)])
    bad = tmp_path / "bad.toml"
    bad.write_text("iterations = = 3\n")
    for main in (selfplay_cli.main, ppo_train.main):
        message = usage_error(capsys, main, ["--config", str(bad)])
        assert str(bad) in message and "TOML" in message
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[planner]\nnum_simulations = 2.5\n")
    message = usage_error(capsys, selfplay_cli.main, ["--config", str(wrong)])
    assert f"config file {wrong}: planner.num_simulations must be an integer" in message


def test_selfplay_layers_preset_file_set_env_and_flags_in_that_order(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        'name = "from-file"\niterations = 7\n[planner]\nnum_simulations = 5\nhidden = 64\n'
        "[env]\nmax_cycles = 12\n"
    )
    config, run = selfplay_cli.parse_args(
        [
            *("--preset", "quick", "--config", str(path)),
            *("--set", "iterations=9", "--set", "planner.hidden=32", "--set", "c_puct=2"),
            *("--set", "env.max_cycles=15", "--env", "max_cycles=18", "--env", "grid_size=[5,5]"),
            *("--name", "flag", "--seed", "3", "--device", "cpu", "--no-progress", "--resume"),
        ]
    )
    quick = preset("quick")
    assert run == RunOptions(resume=True, overwrite=False, fresh=False)  # --name: no numbering
    assert (config.name, config.iterations, config.seed, config.device) == ("flag", 9, 3, "cpu")
    assert config.progress is False
    assert config.env == {**quick.env, "grid_size": [5, 5], "max_cycles": 18}
    assert config.planner == dataclasses.replace(
        quick.planner, num_simulations=5, hidden=32, c_puct=2.0
    )
    # bare words are strings where the field is a string
    config, _ = selfplay_cli.parse_args(["--set", "name=run-1", "--set", "device=cuda:1"])
    assert (config.name, config.device) == ("run-1", "cuda:1")


def test_selfplay_config_round_trips_through_toml_and_json_with_nested_planner(tmp_path):
    config = load_config(
        "paper",
        overrides=["planner.num_simulations=7", "channels=[4, 8, 8]", 'env.layout="0S\\nH1"'],
    )
    assert config.planner.num_simulations == 7 and config.planner.channels == (4, 8, 8)
    text = to_toml(config)
    parsed = tomllib.loads(text)
    assert parsed["planner"]["num_simulations"] == 7 and "num_simulations" not in parsed
    assert parsed["env"] == {"layout": "0S\nH1"}
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert load_config("paper", path=path) == config
    plain = config.to_dict()
    assert json.loads(json.dumps(plain)) == plain  # checkpoints compare this between runs
    assert plain["planner"]["channels"] == [4, 8, 8]
    assert SelfPlayConfig(**plain) == config


def test_selfplay_config_checks_types_from_python_too():
    assert SelfPlayConfig(planner={"num_simulations": 4}).planner == PlannerOptions(
        num_simulations=4, learn_opponents=False, inference_dtype="auto"
    )
    with pytest.raises(ValueError, match="share_networks must be true or false"):
        SelfPlayConfig(share_networks="no")
    with pytest.raises(ValueError, match=r"planner\.gamma must be a finite number"):
        SelfPlayConfig(planner={"gamma": float("nan")})
    with pytest.raises(ValueError, match=r"SelfPlayConfig\.planner: belief_discount"):
        SelfPlayConfig(planner={"belief_discount": 2.0})
    with pytest.raises(ValueError, match=r"SelfPlayConfig\.env"):
        SelfPlayConfig(env={"num_players": 1})


def test_arena_reads_planner_options_flat_or_dotted(capsys):
    args = arena_cli.parse_args(
        [
            *("hop", "random", "--set", "num_simulations=4", "--set", "planner.num_trees=2"),
            *("--env", "grid_size=[5,5]", "--seed", "3", "--matches", "2", "--no-progress"),
            *("--device", "cpu"),
        ]
    )
    assert args.planner_options == {"num_simulations": 4, "num_trees": 2}
    assert args.env_config == {"grid_size": (5, 5)}
    assert list(args.seeds) == [3, 4] and args.device == "cpu" and args.progress is False
    assert arena_cli.parse_args(["random", "random"]).env_config is None  # the checkpoints' game
    message = usage_error(capsys, arena_cli.main, ["random", "random", "--set", "greedy=no"])
    assert "planner.greedy must be true or false" in message
    message = usage_error(capsys, arena_cli.main, ["random", "random", "--set", "iterations=3"])
    assert "unknown key 'iterations'" in message


def test_ppo_reads_flags_settings_and_a_config_file(capsys, tmp_path):
    path = tmp_path / "ppo.toml"
    path.write_text("learning_rate = 1e-3\nnet_arch = [64, 64]\n[env]\ngrid_size = [5, 5]\n")
    config, run = ppo_train.parse_args(
        [
            *("--config", str(path), "--set", "n_epochs=2", "--env", "max_cycles=10"),
            *("--timesteps", "1024", "--num-envs", "2", "--prosocial", "--seed", "4"),
            *("--no-progress",),
        ]
    )
    assert run == RunOptions(resume=False, overwrite=False, fresh=True)  # the default --out
    assert (config.learning_rate, config.net_arch, config.n_epochs) == (1e-3, (64, 64), 2)
    # the file's and the flags' game keywords go over the default game (the quick preset's)
    assert config.env == {"grid_size": (5, 5), "max_block_components": 3, "max_cycles": 10}
    assert (config.total_timesteps, config.num_envs, config.prosocial) == (1024, 2, True)
    assert (config.seed, config.progress) == (4, False)
    for setting, key in [("gamma=nan", "gamma"), ("net_arch=[64, 0.5]", "net_arch")]:
        assert key in usage_error(capsys, ppo_train.main, ["--set", setting])
    assert "total_timesteps" in usage_error(capsys, ppo_train.main, ["--timesteps", "0"])


def test_demo_reads_its_lineup_and_game(capsys):
    args = demo_args(["--lineup", "random", "random", "--env", "grid_size=[5,5]", "--seed", "2"])
    assert (args.lineup, args.env, args.seed) == (["random", "random"], {"grid_size": (5, 5)}, 2)
    assert "bogus" in usage_error(capsys, demo_main, ["--lineup", "bogus", "random"])
    assert "num_players" in usage_error(capsys, demo_main, ["--env", "num_players=3"])


def test_parse_key_values_reads_toml_and_keeps_bare_words_as_strings():
    values = parse_key_values(["a=1", "b.c=[6, 6]", "d=text", "e='quoted'", "f={x=1}"])
    assert values == {"a": 1, "b.c": [6, 6], "d": "text", "e": "quoted", "f": {"x": 1}}
    assert parse_key_values(["a=1", "a=2"]) == {"a": 2}, "the last of repeated settings wins"


def test_ppo_progress_names_its_phases_and_no_progress_is_quiet(tmp_path, capsys):
    argv = [
        "--timesteps",
        "256",
        "--num-envs",
        "1",
        "--set",
        "n_steps=64",
        "--set",
        "batch_size=64",
    ]
    argv += ["--env", "grid_size=[5,5]", "--env", "num_players=2", "--device", "cpu"]
    ppo_train.main([*argv, "--out", str(tmp_path / "shown.safetensors")])
    captured = capsys.readouterr()
    for phase in ("setting up", "collecting", "learning", "writing the checkpoint"):
        assert f"shown: {phase}" in captured.err, phase
    assert "PPO checkpoint:" in captured.out
    ppo_train.main([*argv, "--out", str(tmp_path / "quiet.safetensors"), "--no-progress"])
    assert capsys.readouterr().err == ""
