#!/usr/bin/env bash
# The README's main job from a fresh clone and venv: idle, then beside a busy process (a cold
# numba cache both times). Run from the repository root: bash benchmarks/main_job_fresh.sh
set -euo pipefail
FRESH="$(mktemp -d)/staghunt-tom"
git clone -q "$(git rev-parse --show-toplevel)" "$FRESH" && cd "$FRESH"
python3 -m venv .venv && . .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1 SDL_VIDEODRIVER=dummy
s=$SECONDS; pip install -q torch==2.13.0 2>&1 | grep -v "WARNING: Location" || true
pip install -q -e ".[agents]" 2>&1 | grep -v "WARNING: Location" || true
echo "install: $((SECONDS - s)) s"
clear_cache() { find staghunt_env tom_agents -name "*.nbi" -delete -o -name "*.nbc" -delete; }
clear_cache
s=$SECONDS; /usr/bin/time -f "idle: %e s wall, %U s user" tom-selfplay --no-progress 2>&1 | tail -3; echo "idle total $((SECONDS - s)) s"
clear_cache
python3 -c "while True: pass" & BURNER=$!
s=$SECONDS; /usr/bin/time -f "busy: %e s wall, %U s user" tom-selfplay --no-progress 2>&1 | tail -3; echo "busy total $((SECONDS - s)) s"
kill $BURNER
ls runs
