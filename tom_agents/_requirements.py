"""Fail early, naming the extra to install, when the training stack is missing."""

import importlib.util

MISSING = [m for m in ("torch", "safetensors") if importlib.util.find_spec(m) is None]
if MISSING:
    raise ImportError(
        f"tom_agents needs {' and '.join(MISSING)}, which come with the 'agents' extra: "
        'pip install "staghunt-tom[agents]" (the environment, staghunt_env, works without it)'
    )
