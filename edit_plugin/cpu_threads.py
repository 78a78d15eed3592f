"""Threads for CPU training processes.

``accelerate launch`` (which ``axolotl train`` calls) sets
``OMP_NUM_THREADS=1`` in every process it starts unless the variable is set
or it is told the run is on CPU, and Axolotl does not tell it: a CPU run then
uses one core of the machine. On a machine with no accelerator we set the
threads ourselves, the physical cores shared among the run's processes; a
user's own ``OMP_NUM_THREADS`` always wins.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_PROCESS_FLAGS = ("--num_processes", "--nproc_per_node", "--nproc-per-node", "--num-processes")
_logged = False


def physical_cores(cpuinfo: str | None = None, usable: int | None = None) -> int:
    """Physical cores this process may run on: distinct (package, core)
    pairs of /proc/cpuinfo (hyper-threads share a core), capped by the CPUs
    the process is allowed (a container's affinity)."""
    if usable is None:
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    cores = set()
    for block in cpuinfo.split("\n\n"):
        package = re.search(r"^physical id\s*:\s*(\d+)", block, re.M)
        core = re.search(r"^core id\s*:\s*(\d+)", block, re.M)
        if package and core:
            cores.add((package.group(1), core.group(1)))
    return max(1, min(len(cores) or usable, usable))


def launched_processes(launcher_args: Sequence[str]) -> int:
    """Processes per machine a launcher's arguments ask for (1 when none)."""
    args = list(launcher_args)
    for i, arg in enumerate(args):
        for flag in _PROCESS_FLAGS:
            if arg == flag and i + 1 < len(args) and args[i + 1].isdigit():
                return max(1, int(args[i + 1]))
            if arg.startswith(flag + "=") and arg.split("=", 1)[1].isdigit():
                return max(1, int(arg.split("=", 1)[1]))
    return 1


def has_accelerator(env: Mapping[str, str]) -> bool:
    """A GPU (or other accelerator) the run will use; ACCELERATE_USE_CPU says no."""
    if env.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes"):
        return False
    import torch

    if torch.cuda.is_available():
        return True
    for name in ("xpu", "mps", "npu"):
        backend = getattr(torch, name, None) or getattr(torch.backends, name, None)
        if backend is not None and getattr(backend, "is_available", lambda: False)():
            return True
    return False


def cpu_thread_env(env: Mapping[str, str], processes: int, accelerator: bool,
                   cores: int | None = None) -> dict[str, str]:
    """Variables to add to ``env`` for a run of ``processes`` processes:
    OMP_NUM_THREADS = physical cores // processes (at least 1), or nothing
    when the user set it or the run has an accelerator."""
    if accelerator or env.get("OMP_NUM_THREADS"):
        return {}
    cores = physical_cores() if cores is None else cores
    return {"OMP_NUM_THREADS": str(max(1, cores // max(1, processes)))}


def training_thread_env(env: Mapping[str, str], launcher_args: Sequence[str]) -> dict[str, str]:
    """`cpu_thread_env` for a launch with ``launcher_args``, logged once."""
    global _logged
    processes = launched_processes(launcher_args)
    if env.get("OMP_NUM_THREADS"):
        return {}
    added = cpu_thread_env(env, processes, has_accelerator(env))
    if added and not _logged:
        _logged = True
        print(f"edit-cot: no accelerator: OMP_NUM_THREADS={added['OMP_NUM_THREADS']} for each of {processes} "
              f"training process(es) on {physical_cores()} physical cores (accelerate would use 1); "
              "set OMP_NUM_THREADS to choose", file=sys.stderr)
    return added
