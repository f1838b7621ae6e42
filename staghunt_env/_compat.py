"""What differs between the PettingZoo versions we support (1.24 to 1.27), in one place."""

from __future__ import annotations

import pettingzoo

try:
    from pettingzoo.utils import AgentSelector
except ImportError:  # PettingZoo < 1.25 names it agent_selector
    from pettingzoo.utils import agent_selector as AgentSelector  # noqa: N812

# pettingzoo.make and its registries arrived in 1.27; before it the env is built directly.
HAS_REGISTRY = hasattr(pettingzoo, "register") and hasattr(pettingzoo, "parallel_registry")

__all__ = ["HAS_REGISTRY", "AgentSelector"]
