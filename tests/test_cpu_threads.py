"""CPU training processes get the machine's physical cores, shared among
the run's processes; a user's OMP_NUM_THREADS always wins."""

from __future__ import annotations

import pytest

from edit_plugin.axolotl_runner import axolotl_env
from edit_plugin.cpu_threads import cpu_thread_env, launched_processes, physical_cores

# Two packages of two cores, each core with two hyper-threads: 8 logical CPUs, 4 cores.
CPUINFO = "\n\n".join(
    f"processor\t: {n}\nphysical id\t: {n // 4}\ncore id\t\t: {(n // 2) % 2}\nsiblings\t: 4"
    for n in range(8)
)


def test_physical_cores_count_cores_not_hyper_threads_and_respect_affinity():
    assert physical_cores(CPUINFO, usable=8) == 4
    assert physical_cores(CPUINFO, usable=3) == 3  # a container allowed 3 CPUs
    assert physical_cores("", usable=6) == 6  # no topology: the usable CPUs
    assert physical_cores() >= 1


@pytest.mark.parametrize("args, processes", [
    ((), 1),
    (["--", "--multi_gpu", "--num_processes", "2", "--main_process_port", "1234"], 2),
    (["--launcher", "torchrun", "--", "--nproc_per_node", "3"], 3),
    (["--", "--num_processes=4"], 4),
])
def test_launched_processes_read_from_either_launcher(args, processes):
    assert launched_processes(args) == processes


def test_threads_are_the_cores_shared_among_processes():
    assert cpu_thread_env({}, processes=1, accelerator=False, cores=2) == {"OMP_NUM_THREADS": "2"}
    assert cpu_thread_env({}, processes=2, accelerator=False, cores=2) == {"OMP_NUM_THREADS": "1"}
    assert cpu_thread_env({}, processes=3, accelerator=False, cores=2) == {"OMP_NUM_THREADS": "1"}
    assert cpu_thread_env({}, processes=2, accelerator=False, cores=16) == {"OMP_NUM_THREADS": "8"}


def test_a_user_setting_or_an_accelerator_leaves_the_threads_alone():
    assert cpu_thread_env({"OMP_NUM_THREADS": "3"}, processes=1, accelerator=False, cores=2) == {}
    assert cpu_thread_env({}, processes=1, accelerator=True, cores=2) == {}


def test_axolotl_env_sets_the_threads_once_and_keeps_the_users(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("ACCELERATE_USE_CPU", "true")  # a CPU run, GPU or not
    cores = physical_cores()
    assert axolotl_env()["OMP_NUM_THREADS"] == str(cores)
    assert axolotl_env(["--", "--num_processes", "2"])["OMP_NUM_THREADS"] == str(max(1, cores // 2))
    assert axolotl_env(extra={"OMP_NUM_THREADS": "5"})["OMP_NUM_THREADS"] == "5"
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    assert axolotl_env()["OMP_NUM_THREADS"] == "7"
