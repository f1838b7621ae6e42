"""Train the agents shipped in ``tom_agents/pretrained/`` from scratch, on the default game.

    python -m benchmarks.build_pretrained            # about 20 minutes on a 2-core CPU

Every agent is trained as the agent-vs-agent benchmarks train theirs (``benchmarks.trained_agents``,
the ``quick`` size: the quick preset's networks, search budget and 60 self-play iterations for
the planners, 300k PPO steps), but on the default game (4 hunters, 8x8, 1 stag, 4 hares, 35
steps), with the seeds listed there. The planners are saved without their optimisers' moments
(agents to play with, a third of the size); the manifest records each agent's game, seed,
training time and this command; the planners' self-play learning curves are copied to
``benchmarks/results/pretrained/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import trained_agents
from staghunt_env import StagHuntConfig
from tom_agents.atomic import atomic_write
from tom_agents.loading import load_planners
from tom_agents.planner import HOP_PLUS
from tom_agents.pretrained import FOLDER, MANIFEST

SHIPPED = ("hop", "direct_om", "mcts", "ppo", "ppo_prosocial")
COMMAND = "python -m benchmarks.build_pretrained"
# the shipped hop_plus spends the shipped hop's 32 simulations per decision over 4 trees of 8: more
# samples of the co-players' goals (+0.12 [0.08, 0.18] per episode pooled over the 14 cells of
# benchmarks/results/paper/trees.md, against 2 trees of 16)
HOP_PLUS_SEARCH = {"num_trees": 4, "num_simulations": 8}
CURVES = (
    Path(__file__).resolve().parent / "results" / "pretrained"
)  # the planners' self-play curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="runs/pretrained", help="training runs")
    args = parser.parse_args()
    default = StagHuntConfig()
    game = trained_agents.default_game()
    start = time.perf_counter()
    specs, timings = trained_agents.prepare(
        "quick", Path(args.cache), retrain=True, game=game, names=SHIPPED
    )
    agents = {}
    for name in SHIPPED:
        kind, _, path = specs[name].partition(":")
        target = FOLDER / f"{name}.safetensors"
        if kind == "checkpoint":
            _, owners = load_planners(path, device="cpu")
            owners[0].save(target, optimizers=False)
            curves = Path(path).parents[1] / "learning_curves.png"  # run/checkpoints/file
            CURVES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(curves, CURVES / f"{name}_learning_curves.png")
            seed, how = trained_agents.PLANNERS[name][1], "self-play, quick preset settings"
        else:
            shutil.copyfile(path, target)
            seed, how = trained_agents.PPOS[name][1], "PPO, 300k steps"
        agents[name] = {
            "file": target.name,
            "env_config": default.to_dict(),
            "seed": seed,
            "trained_by": how,
            "train_seconds": round(timings[name], 1),
        }
    # hop's networks, planning anew
    agents["hop_plus"] = {**agents["hop"], "options": {**HOP_PLUS, **HOP_PLUS_SEARCH}}
    manifest = {
        "command": COMMAND,
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - start, 1),
        "agents": agents,
    }
    atomic_write(MANIFEST, lambda f: f.write(json.dumps(manifest, indent=1).encode()))
    print(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
