import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pytest

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch is a dependency; this only guards odd local set-ups
    pass

# Configurations every API test runs over (the list).
CONFIGS = {
    "default": {},
    "2p_5x5_no_blocks": {"num_players": 2, "grid_size": (5, 5), "max_block_components": 0},
    "3_stags_10x10": {"num_stags": 3, "grid_size": (10, 10)},
    "layout": {
        "layout": [
            "0..#....",
            "..S#..H.",
            "1.......",
            "...##...",
            "H......2",
            "....H...",
            ".#....3.",
            ".#..H...",
        ]
    },
}


@pytest.fixture(params=sorted(CONFIGS))
def config(request):
    return CONFIGS[request.param]
