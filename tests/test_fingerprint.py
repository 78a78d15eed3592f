"""Stage fingerprints name folders by placeholder, never by where they lie."""

from edit_plugin.experiment.fingerprint import digest, relocated

ROOTS = {"/w/run": "<work>", "/w/run/data": "<work>/data", "/c/results": "<results>"}


def test_paths_below_a_root_are_written_from_its_placeholder():
    config = {"output_dir": "/w/run/models/s1", "datasets": [{"path": "/w/run/data/sft.jsonl"}],
              "base_model": "/c/results/onpolicy", "lr": 2e-4, "steps": 3, "flag": None}
    assert relocated(config, ROOTS) == {
        "output_dir": "<work>/models/s1", "datasets": [{"path": "<work>/data/sft.jsonl"}],
        "base_model": "<results>/onpolicy", "lr": 2e-4, "steps": 3, "flag": None}


def test_only_whole_path_components_match():
    # A sibling folder whose name starts like a root is not below it.
    assert relocated(["/w/run-2/x", "/w/run", "HuggingFaceTB/SmolLM2"], ROOTS) == [
        "/w/run-2/x", "<work>", "HuggingFaceTB/SmolLM2"]


def test_the_same_stage_in_two_places_has_one_fingerprint():
    here = {"output_dir": "/w/run/models/s1", "data": "/w/run/data/a.jsonl"}
    there = {"output_dir": "/x/y/models/s1", "data": "/tmp/t/a.jsonl"}
    assert digest(relocated(here, ROOTS)) == digest(relocated(there, {"/x/y": "<work>", "/tmp/t": "<work>/data"}))
    moved_file = {"output_dir": "/x/y/models/s1", "data": "/tmp/t/b.jsonl"}
    assert digest(relocated(here, ROOTS)) != digest(relocated(moved_file, {"/x/y": "<work>", "/tmp/t": "<work>/data"}))
