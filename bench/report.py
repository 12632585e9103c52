"""The result table of a bench run (printed as Markdown, ready for the README)."""

import os
from dataclasses import dataclass


@dataclass
class Result:
    job: str
    size: str
    system: str
    baseline: str
    ratio: float | None
    goal: str
    met: bool | None  # None: reported without a goal
    rss_mb: float | None = None
    queries: int | None = None
    note: str = ""


def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


class Table:
    def __init__(self):
        self.rows: list[Result] = []

    def add(self, result: Result) -> Result:
        self.rows.append(result)
        mark = {True: "ok", False: "MISSED", None: "-"}[result.met]
        ratio = f"{result.ratio:.1f}x" if result.ratio is not None else "-"
        print(f"  [{mark}] {result.job} ({result.size}): {result.system} vs {result.baseline} "
              f"= {ratio} (goal {result.goal}); RSS {result.rss_mb or 0:.0f} MB, "
              f"{result.queries if result.queries is not None else '-'} queries"
              f"{'; ' + result.note if result.note else ''}", flush=True)
        return result

    def all_met(self) -> bool:
        return all(r.met is not False for r in self.rows)

    def print(self, *, elapsed: float) -> None:
        print(f"\n{len(self.rows)} figures in {elapsed / 60:.1f} min on {os.cpu_count()} cores\n")
        print("| job | size | system | baseline (same run) | ratio | goal | met | peak RSS | "
              "queries | note |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in self.rows:
            ratio = f"{r.ratio:.1f}×" if r.ratio is not None else ""
            met = {True: "yes", False: "**no**", None: ""}[r.met]
            rss = f"{r.rss_mb:.0f} MB" if r.rss_mb is not None else ""
            queries = "" if r.queries is None else f"{r.queries:,}"
            print(f"| {r.job} | {r.size} | {r.system} | {r.baseline} | {ratio} | {r.goal} | "
                  f"{met} | {rss} | {queries} | {r.note} |")
        missed = [r for r in self.rows if r.met is False]
        print(f"\n{len(missed)} of {len(self.rows)} figures miss their goal.")
