"""A progress bar over teacher requests, with the running D+ / D- / D-+ / D+-
counts: a long teacher run shows what it has built so far."""

from __future__ import annotations

from tqdm.auto import tqdm


class Progress:
    def __init__(self, enabled: bool = True, stream=None):
        # The total grows as stages are planned: retries are not known ahead.
        self.bar = tqdm(total=0, unit="req", desc="teacher", disable=not enabled, file=stream,
                        dynamic_ncols=True, mininterval=0.5)

    def plan(self, requests: int) -> None:
        self.bar.total += requests
        self.bar.refresh()

    def advance(self, requests: int) -> None:
        self.bar.update(requests)

    def show(self, correct: int, incorrect: int, rectified: int, corrupted: int) -> None:
        self.bar.set_postfix({"D+": correct, "D-": incorrect, "D-+": rectified, "D+-": corrupted})

    def close(self) -> None:
        self.bar.close()
