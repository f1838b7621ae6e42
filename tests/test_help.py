"""Every console script's --help answers the question: each option described, defaults shown,
choices and settings listed (with types and defaults), plain text without reST backticks."""

import argparse

import pytest

from tom_agents.arena.cli import build_parser as arena_parser
from tom_agents.demo import build_parser as demo_parser
from tom_agents.ppo.train import build_parser as ppo_parser
from tom_agents.selfplay.cli import build_parser as selfplay_parser

PARSERS = {
    "tom-arena": arena_parser,
    "tom-selfplay": selfplay_parser,
    "tom-train-ppo": ppo_parser,
    "staghunt-demo": demo_parser,
}
# What each script's help must say: defaults, choices and the settings --set takes.
EXPECTED = {
    "tom-arena": [
        "episodes per match (K) (default: 10)",
        "(default: 8)",
        "(default: runs/arena",
        "(default: 0)",
        *("hop", "nearest_stag", "random", "direct_om", "mcts", "module:factory", "ppo:PATH"),
        "checkpoint:PATH",
        "num_simulations",
        "200",
        "grid_size",
        "[8, 8]",
    ],
    "tom-selfplay": [
        "(default: quick)",
        "quick: a few minutes",
        "paper: SPEC section 2",
        "iterations=60",
        "iterations           60 | 100       an integer",
        "num_simulations",
        "16 | 200",
        "grid_size             [6, 6] | [8, 8]",
        "(default: the preset's name",
    ],
    "tom-train-ppo": [
        "(default: runs/ppo/ppo.safetensors",
        "(default: 200000)",
        "(default: 8)",
        "learning_rate",
        "0.0003",
        "a finite number",
        "net_arch",
    ],
    "staghunt-demo": [
        "(default: runs/demo.gif)",
        "(default: nearest_stag nearest_stag nearest_hare nearest_prey)",
        "hop",
        "module:factory",
    ],
}


def help_text(script: str) -> str:
    return PARSERS[script]().format_help()


@pytest.mark.parametrize("script", sorted(PARSERS))
def test_help_is_plain_text_with_defaults_and_choices(script):
    text = " ".join(help_text(script).split())  # argparse wraps lines where it likes
    assert "`" not in text
    for expected in EXPECTED[script]:
        assert " ".join(expected.split()) in text, expected
    for common in ("--seed", "(default: 0)", "--env", "max_cycles"):
        assert common in text


@pytest.mark.parametrize("script", sorted(PARSERS))
def test_every_option_has_help_text(script):
    parser = PARSERS[script]()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and len(action.help) > 10, action.option_strings or action.dest


@pytest.mark.parametrize("script", sorted(PARSERS))
def test_help_exits_cleanly_through_main(script, capsys):
    from test_cli import MAINS

    main, _ = MAINS[script]
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert f"usage: {script}" in capsys.readouterr().out
