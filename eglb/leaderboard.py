"""The leaderboard: score any policy on a task's test split, write the entry it would get, and the
Markdown pages of the tasks and the leaderboard (from the reference scores and submitted entries).

``evaluate.py --task TASK --algos SPEC`` runs :func:`leaderboard`: the policy (any spec: a run
folder ``bc:runs/NAME``, your own ``py:MODULE:FUNCTION``, an SB3 zip with ``--allow-pickle``, or
``robust(...)`` around any of them) on every test episode, next to GLB-Cost and eGLB-Off, which anchor
the normalized score (:mod:`eglb.scores`). It prints the row and, with ``--out``, writes
``leaderboard.json``: the entry to submit (copy it into the repository's ``leaderboard/`` folder;
``make figures`` puts every entry there on the leaderboard page).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path

from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write_json, atomic_write_text, exclusive_lock, read_json
from eglb.envs.validation import check_fields, typed_arguments
from eglb.evaluation import Mapper, _check_out
from eglb.registry import AlgorithmOptions, split_specs
from eglb.scores import (
    REFERENCE_ALGOS,
    anchor_drift,
    load_reference,
    reference_anchors,
    run_task,
    summarize,
)
from eglb.tasks import TASKS, task

ENTRY_FORMAT = "eglb-leaderboard-entry/1"
#: A submission file: ``{"format": SUBMISSION_FORMAT, "entries": [entry, ...]}`` (one entry per algorithm).
SUBMISSION_FORMAT = "eglb-leaderboard-submission/1"
#: Numbers every entry's summary must hold (finite), and the longest algorithm name a page shows.
SUMMARY_NUMBERS = ("score", "score_ci_low", "score_ci_high", "score_iqm", "ratio_to_offline", "ratio_worst")
MAX_NAME = 200
COLUMNS = ("algo", "score", "score_iqm", "ratio_to_offline", "ratio_worst", "par_water", "par_carbon", "ms_per_hour")


#: What leaderboard() writes into its ``out`` folder.
LEADERBOARD_FILES = ("results.json", "results.csv", "leaderboard.json")


@dataclass(frozen=True)
class LeaderboardConfig:
    """Score policies on a task.

    Attributes:
        task: the task id (``history14-2024-weekly-v1``; a bare name means its latest version).
        algos: the specs to score (one comma-separated string or a tuple).
        options: shared algorithm settings (``allow_pickle`` for SB3 zips).
        out: folder for leaderboard.json and the per-episode rows (None: nothing written); never a
            training run folder. overwrite: replace them if ``out`` already holds them (else it is refused).
        report: print the table. command: the command line, recorded in the entry.
    """

    task: str
    algos: tuple[str, ...] = ()
    options: AlgorithmOptions = field(default_factory=AlgorithmOptions)
    out: str | None = None
    overwrite: bool = False
    report: bool = False
    command: str = ""

    def __post_init__(self):
        object.__setattr__(self, "task", task(self.task).id)
        if isinstance(self.algos, str):
            object.__setattr__(self, "algos", tuple(split_specs(self.algos)))
        check_fields(self)
        if not self.algos:
            raise InputError("give the policies to score (--algos)")


@dataclass
class LeaderboardResult:
    """rows: one per (episode, algorithm); summary: one per algorithm; entries: what would be submitted."""

    rows: list[dict]
    summary: list[dict]
    entries: list[dict]
    files: list[Path] = field(default_factory=list)


def check_anchors(task_id: str, rows: Sequence[dict]) -> None:
    """Warn when this run's GLB-Cost and eGLB-Off differ from the recorded ones (a changed version of the
    code or the data: its scores are then not comparable with the leaderboard's)."""
    try:
        anchors = reference_anchors(task_id)
    except InputError:
        warnings.warn(f"no reference scores recorded for {task_id}: scores use this run's own anchors", stacklevel=2)
        return
    drifted = anchor_drift(anchors, rows)
    if drifted is not None:
        warnings.warn(
            f"{task_id} episode {drifted}: GLB-Cost / eGLB-Off differ from the recorded reference "
            "(another code or data version): these scores are not comparable with the leaderboard's",
            stacklevel=2,
        )


def entry(task_id: str, summary: dict, rows: Sequence[dict], command: str) -> dict:
    """The leaderboard entry of one algorithm (what ``leaderboard/*.json`` holds)."""
    return {
        "format": ENTRY_FORMAT,
        "task": task_id,
        "algo": summary["algo"],
        "summary": summary,
        "per_episode": [
            {k: r[k] for k in ("episode", "seed", "J", "score", "ratio_to_offline") if r.get(k) is not None} for r in rows
        ],
        "command": command,
        "eglb_version": metadata.version("eglb"),
        "date": str(date.today()),
    }


@typed_arguments
def leaderboard(config: LeaderboardConfig, mapper: Mapper | None = None) -> LeaderboardResult:
    """Score ``config.algos`` on the task's test split; print and write as the config says."""
    from eglb.report.tables import format_table, write_rows

    out = _check_out(config, LEADERBOARD_FILES)
    chosen = task(config.task)
    rows = run_task(chosen, config.algos, config.options, mapper, progress=print if config.report else None)
    check_anchors(chosen.id, rows)
    summary = summarize(rows)
    entries = [entry(chosen.id, s, [r for r in rows if r["algo"] == s["algo"]], config.command) for s in summary]
    result = LeaderboardResult(rows, summary, entries)
    if config.report:
        print(
            f"{chosen.id}: score = 100 (J_GLB-Cost - J) / (J_GLB-Cost - J_eGLB-Off), mean over {summary[0]['episodes']} test episodes"
        )
        print(format_table(_with_intervals(summary), columns=COLUMNS, formats=_FORMATS))
    if out is not None:
        with exclusive_lock(out, "a leaderboard run"):
            _check_out(config, LEADERBOARD_FILES)  # again: another process may have written there meanwhile
            files = write_rows(rows, out, "results")
            files.append(atomic_write_json(out / "leaderboard.json", {"format": SUBMISSION_FORMAT, "entries": entries}))
        result.files = files
        if config.report:
            print("wrote " + ", ".join(str(p) for p in files) + " (submit leaderboard.json: copy it into leaderboard/)")
    return result


_FORMATS = {"score": "{}", "score_iqm": "{:.2f}", "ms_per_hour": "{:.2f}", "ratio_worst": "{:.4f}"}


def _with_intervals(summary: Sequence[dict]) -> list[dict]:
    return [{**s, "score": f"{s['score']:.2f} [{s['score_ci_low']:.2f}, {s['score_ci_high']:.2f}]"} for s in summary]


# ----------------------------------------------------------------------------------------- pages
def read_entries(folder: str | Path) -> list[dict]:
    """Every submitted entry in ``folder`` (``*.json`` files as ``leaderboard()`` writes them), checked:
    a known task, a short one-line algorithm name, finite summary numbers. Anything else is an
    InputError naming the file and the entry (a submission is text someone else wrote)."""
    entries = []
    for path in sorted(Path(folder).glob("*.json")):
        content = read_json(path, "leaderboard submission")
        if content.get("format") != SUBMISSION_FORMAT or not isinstance(content.get("entries"), list):
            raise InputError(
                f"{path}: not a leaderboard submission (expected format {SUBMISSION_FORMAT!r} with a list 'entries')"
            )
        for index, item in enumerate(content["entries"]):
            entries.append(_checked_entry(item, f"{path}, entry {index}"))
    return entries


def _checked_entry(item, where: str) -> dict:
    if not isinstance(item, dict) or item.get("format") != ENTRY_FORMAT:
        raise InputError(f"{where}: not a leaderboard entry of format {ENTRY_FORMAT!r}")
    if item.get("task") not in TASKS:
        raise InputError(f"{where}: unknown task {str(item.get('task'))[:80]!r} (known: {', '.join(TASKS)})")
    summary = item.get("summary")
    algo = summary.get("algo") if isinstance(summary, dict) else None
    if not isinstance(algo, str) or not 0 < len(algo) <= MAX_NAME or any(c in algo for c in "|\n\r`"):
        raise InputError(f"{where}: summary.algo must be a one-line name of at most {MAX_NAME} characters without | or `")
    for key in SUMMARY_NUMBERS:
        value = summary.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(f"{where}: summary.{key} must be a finite number, got {str(value)[:40]!r}")
    return item


def _table(rows: Sequence[dict]) -> list[str]:
    lines = [
        "| policy | information | score [95 % CI] | IQM | J / J(eGLB-Off) | worst | PAR water | PAR carbon | ms / hour | seeds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: -r["score"]):
        ms = "-" if r.get("ms_per_hour") is None else f"{r['ms_per_hour']:.2f}"
        par = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append(
            f"| `{r['algo']}` | {r.get('information', 'not declared')} | {r['score']:.2f} [{r['score_ci_low']:.2f}, {r['score_ci_high']:.2f}] | {r['score_iqm']:.2f} | "
            f"{r['ratio_to_offline']:.4f} | {r['ratio_worst']:.4f} | {par(r.get('par_water'))} | {par(r.get('par_carbon'))} | "
            f"{ms} | {r.get('seeds', 1)} |"
        )
    return lines


def leaderboard_page(reference: dict, entries: Sequence[dict] = ()) -> str:
    """The leaderboard: per task, the reference algorithms and the submitted entries, best score first."""
    lines = [
        "# Leaderboard",
        "",
        "Normalized score on each task's test split: `100 (J_ref - J) / (J_ref - J_opt)`, with J_ref GLB-Cost's J",
        "(the equity-oblivious cheapest routing: 0) and J_opt eGLB-Off's (the hindsight optimum, an oracle: 100),",
        "per episode, then the mean with its 95 % stratified-bootstrap interval over episodes and training seeds.",
        "Reference rows are regenerated by `make figures`; submitted rows come from `leaderboard/*.json`",
        "(written by `python evaluate.py --task TASK --algos SPEC --out DIR`).",
        "",
    ]
    for task_id, recorded in reference.get("tasks", {}).items():
        lines += [f"## [{task_id}](tasks/{task_id}.md)", "", recorded["card"]["summary"] + ".", ""]
        rows = [{**r, "algo": a} for a, r in recorded["algorithms"].items()]
        rows += [{**e["summary"], "algo": f"{e['summary']['algo']} (submitted)"} for e in entries if e["task"] == task_id]
        lines += _table(rows) + [""]
    lines.append(
        f"<sub>Reference scores measured on {reference.get('measured', '?')} ({reference.get('machine', '?')}), "
        f"eglb {reference.get('eglb_version', '?')}.</sub>"
    )
    return "\n".join(lines) + "\n"


def task_card_page(task_id: str, recorded: dict | None) -> str:
    """A task's card: what it is, its splits, information, sources and licences, its reference scores."""
    card = task(task_id).card()
    splits = card["splits"]
    lines = [
        f"# {card['id']}",
        "",
        card["summary"] + ".",
        "",
        "| field | value |",
        "|---|---|",
        f'| Gymnasium id (training split) | `gymnasium.make("{card["gymnasium_id"]}")` after `import eglb` |',
        f"| data | {card['data']}, {card['setting']} mask |",
        f"| episode | {card['episode_hours']} hours |",
        *(f"| {name} split | {splits[name]['description']} |" for name in ("train", "select", "test")),
        f"| shift | {'none' if card['shift'] is None else card['shift']['name'] + ' at severity 1: ' + card['shift']['what']} |",
        f"| information | {card['information']} |",
        "| objective | J = energy cost + mu_w max_i W_i + mu_c max_i C_i with the scenario's weights (USD/m^3, USD/t) |",
        "| score | 100 (J(GLB-Cost) - J) / (J(GLB-Cost) - J(eGLB-Off)) per test episode, averaged |",
        "",
        "Sources and licences:",
        "",
        *(f"- {source}" for source in card["sources"]),
        "",
        "Score a policy on it:",
        "",
        "```console",
        f"python evaluate.py --task {card['id']} --algos SPEC --out results/{card['id']}",
        "```",
        "",
    ]
    if recorded:
        lines += ["## Reference scores", ""] + _table([{**r, "algo": a} for a, r in recorded["algorithms"].items()]) + [""]
    return "\n".join(lines)


def write_pages(folder: str | Path, reference: dict | None = None, submissions: str | Path | None = None) -> list[Path]:
    """Write ``leaderboard.md`` and ``tasks/TASK.md`` (one card per task) into ``folder``."""
    folder = Path(folder)
    reference = reference if reference is not None else load_reference()
    entries = read_entries(submissions) if submissions and Path(submissions).is_dir() else []
    written = [atomic_write_text(folder / "leaderboard.md", leaderboard_page(reference, entries))]
    for task_id in TASKS:
        written.append(
            atomic_write_text(folder / "tasks" / f"{task_id}.md", task_card_page(task_id, reference["tasks"].get(task_id)))
        )
    return written


__all__ = ["REFERENCE_ALGOS", "LeaderboardConfig", "leaderboard", "leaderboard_page", "task_card_page", "write_pages"]
