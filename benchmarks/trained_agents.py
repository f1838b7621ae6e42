"""The trained agents of the agent-vs-agent benchmarks, trained once per size and cached.

Planners (hop, direct_om, mcts) are trained by self-play with ``tom_agents.selfplay`` (the
``quick`` preset: its game, networks and search budget); PPO by ``tom_agents.ppo`` on the same
game. Focal agents use seed 0; the co-players "hop self-play", "ppo selfish" and "ppo
prosocial" are separate runs (seed 1), so focal agents never met them in training. Runs resume
where they stopped, and finished runs are reused (``--retrain`` starts over).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from staghunt_env import StagHuntConfig
from tom_agents.atomic import atomic_write
from tom_agents.ppo import PPOConfig, train_ppo
from tom_agents.selfplay import checkpoint as selfplay_checkpoint
from tom_agents.selfplay.config import load_config, preset
from tom_agents.selfplay.train import train

GAME = preset("quick").env  # 6x6, 3 wall pieces, 20 steps, 4 hunters
SEARCH = {
    "num_trees": preset("quick").planner.num_trees,
    "num_simulations": preset("quick").planner.num_simulations,
}


@dataclass(frozen=True)
class Size:
    selfplay_iterations: int
    ppo_timesteps: int
    matches: int
    episodes: int = 10


SIZES = {
    "quick": Size(selfplay_iterations=60, ppo_timesteps=300_000, matches=16),
    "full": Size(selfplay_iterations=150, ppo_timesteps=1_000_000, matches=64),
}

RESULTS = Path(__file__).resolve().parent / "results"


def default_game() -> dict:
    """The default game (the paper's) as env keywords of the fields ``GAME`` sets, in JSON's
    types: what the shipped agents were trained on."""
    default = StagHuntConfig()
    game = {key: getattr(default, key) for key in GAME}
    return {key: list(value) if isinstance(value, tuple) else value for key, value in game.items()}


def _digest(game: dict) -> str:
    return hashlib.sha256(json.dumps(game, sort_keys=True).encode()).hexdigest()[:8]


def arguments(description: str) -> argparse.Namespace:
    """The options every agent-vs-agent benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="the size that runs in minutes")
    parser.add_argument("--cache", default="runs/benchmark_agents", help="trained agents")
    parser.add_argument("--retrain", action="store_true", help="train the agents anew")
    parser.add_argument(
        "--search",
        metavar="TREESxSIMULATIONS",
        help="the planners' search budget, e.g. 5x200 (default: the 2x16 they trained with); "
        "results then go to a folder of their own, e.g. benchmarks/results/search_5x200/",
    )
    parser.add_argument(
        "--out", help="folder for the results (default: benchmarks/results/, full size: .../full/)"
    )
    args = parser.parse_args()
    args.size = "quick" if args.quick else "full"
    folder = RESULTS if args.quick else RESULTS / "full"
    args.planner_options = SEARCH
    if args.search:
        trees, _, simulations = args.search.partition("x")
        if not (trees.isdigit() and simulations.isdigit()):
            parser.error(f"--search needs TREESxSIMULATIONS, e.g. 5x200, got {args.search!r}")
        args.planner_options = {"num_trees": int(trees), "num_simulations": int(simulations)}
        folder = folder / f"search_{args.search}"
    args.out = Path(args.out) if args.out else folder
    args.cache = Path(args.cache)
    return args


# name -> (how it is trained, seed)
PLANNERS = {
    "hop": ("learned", 0),
    "direct_om": ("goal_free", 0),
    "mcts": ("uniform", 0),
    "hop_selfplay": ("learned", 1),
}
PPOS = {"ppo": (False, 0), "ppo_selfish": (False, 1), "ppo_prosocial": (True, 1)}


def prepare(
    size_name: str,
    cache: Path,
    retrain: bool = False,
    game: dict | None = None,
    names: tuple[str, ...] | None = None,
) -> tuple[dict[str, str], dict]:
    """Agent specs by benchmark name (``checkpoint:PATH``/``ppo:PATH``), and the seconds each
    took to train (recorded in ``timings.json`` when it was trained, so cached runs report it).

    ``game``: the env keywords to train on instead of the quick game (its own cache folder);
    ``names``: only these agents."""
    size = SIZES[size_name]
    root = cache / size_name if game is None else cache / f"{size_name}_game_{_digest(game)}"
    game = GAME if game is None else game
    wanted = set(PLANNERS) | set(PPOS) if names is None else set(names)
    if retrain and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    timings_path = root / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}

    def trained(name: str, what: str, run: Callable[[], object]) -> None:
        """Run ``run`` unless ``name`` was trained before; record how long it took."""
        if name in timings:
            return
        print(f"  training {name}: {what}", flush=True)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # e.g. self-play's "resumed from ..."
            run()
        timings[name] = time.perf_counter() - start
        atomic_write(timings_path, lambda f: f.write(json.dumps(timings).encode()))

    specs = {}
    for name, (opponent_model, seed) in PLANNERS.items():
        if name not in wanted:
            continue
        config = load_config(
            "quick",
            overrides=[
                f"name={json.dumps(name)}",
                f"out_dir={json.dumps(str(root))}",
                f"seed={seed}",
                f"opponent_model={json.dumps(opponent_model)}",
                f"iterations={size.selfplay_iterations}",
                "eval_episodes=0",
                "progress=false",
                "workers=0",  # in this process, as the recorded agents were: the same games
                *(f"env.{key}={json.dumps(value)}" for key, value in game.items()),
            ],
        )
        trained(
            name,
            f"self-play ({opponent_model}, seed {seed})",
            partial(train, config, resume=True, overwrite=True),
        )
        specs[name] = f"checkpoint:{selfplay_checkpoint.list_checkpoints(config.run_dir)[-1]}"
    for name, (prosocial, seed) in PPOS.items():
        if name not in wanted:
            continue
        config = PPOConfig(
            out=str(root / "ppo" / f"{name}.safetensors"),
            env=game,
            prosocial=prosocial,
            total_timesteps=size.ppo_timesteps,
            seed=seed,
            progress=False,
        )
        trained(
            name,
            f"PPO (prosocial={prosocial}, seed {seed})",
            partial(train_ppo, config, resume=True, overwrite=True),
        )
        specs[name] = f"ppo:{config.out}"
    return specs, timings
