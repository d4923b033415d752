"""`coach bench [NAME]`: time parts of the coach on this machine.

BENCHES maps a name to a function taking the parsed arguments and returning an
exit code; other features add theirs (for example `broadcast`, `serve`).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.checker import CheckContext, build
from bot.config import Settings
from bot.guidance import load_knowledge

Bench = Callable[[argparse.Namespace], int]


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="time the checker and Q&A (or another named bench)")
    p.add_argument("name", nargs="?", default="checker", help=f"which bench: {', '.join(sorted(BENCHES))} (default: checker)")
    p.add_argument("--corpus", help="a YAML or JSONL file of drafts to time instead of the generated corpus")
    p.add_argument("--items", type=int, default=400, help="how many generated posts of each length (default 400)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    from adapters.bench_broadcast import add_arguments as broadcast_arguments  # --recipients, --rate ...

    broadcast_arguments(p)
    from adapters.bench_serve import add_arguments as serve_arguments  # --requests, --concurrency, --url

    serve_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bench = BENCHES.get(args.name)
    if bench is None:
        from bot.errors import BadInput

        raise BadInput(f"no bench called {args.name!r}; try one of: {', '.join(sorted(BENCHES))}")
    return bench(args)


_OPENERS = [
    "Great turnout at the {place} litter pick this morning",
    "Planning committee meets on Tuesday at 7pm to discuss the {place} scheme",
    "Huge thanks to our officers for the gritting last night in {place}",
    "Everyone knows the owner of {place} Motors has been fiddling the books",
    "I'll be voting against the {place} application whatever the officers say",
    "Here's the email Mrs Patel of 12 {place} Road sent me about her neighbour",
    "Password for the ward page is {place}2024! if anyone needs it",
    "Can't say much, but the sale price agreed in the Part 2 session was shockingly low",
    "Used a photo I found online of the {place} bridge for my newsletter",
    "Absolute m0ron at the council gave the {place} café the wrong advice again",
]
_FILLERS = [
    "Residents have told me how much this matters to them.",
    "I've asked officers for an update and will report back here.",
    "The consultation is open until the end of the month.",
    "Thanks to everyone who came along and gave their views.",
    "More details are on the council website.",
    "Please share with neighbours who are not online.",
]
_PLACES = ["Ashcombe", "Kettleby", "Millbeck", "Selworth", "Greyford", "Tollerby", "Dunsmere", "Hatherley"]


def generated_corpus(items: int, seed: int = 11) -> dict[str, list[str]]:
    """Short (about 280 characters) and long (about 2,000 characters) posts."""
    rng = random.Random(seed)

    def post(length: int) -> str:
        text = rng.choice(_OPENERS).format(place=rng.choice(_PLACES)) + ". "
        while len(text) < length:
            text += rng.choice(_FILLERS) + " "
        return text[:length]

    return {"280": [post(280) for _ in range(items)], "2000": [post(2000) for _ in range(items)]}


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def _time(fn: Callable[[str], Any], texts: list[str]) -> dict[str, float]:
    for text in texts[:20]:  # warm caches
        fn(text)
    samples = []
    start = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        fn(text)
        samples.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - start
    return {
        "items": len(texts),
        "per_second": round(len(texts) / total, 1) if total else 0.0,
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(_percentile(samples, 99), 3),
        "max_ms": round(max(samples), 3),
    }


def _corpus_from_file(path: str) -> dict[str, list[str]]:
    from .eval import read_items

    if path.endswith(".jsonl"):
        texts = [json.loads(l).get("text", "") for l in Path(path).read_text(encoding="utf-8").splitlines() if l.strip()]
    else:
        texts = [str(i.get("text", "")) for i in read_items(path, "drafts")]
    return {"file": texts}


def checker_bench(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    loads = []
    for _ in range(5):
        t0 = time.perf_counter()
        knowledge = load_knowledge(settings.knowledge_dir)
        engines = build(knowledge)
        loads.append((time.perf_counter() - t0) * 1000)
    corpus = _corpus_from_file(args.corpus) if args.corpus else generated_corpus(args.items)
    context = CheckContext()
    results: dict[str, Any] = {
        "knowledge_load_ms": {"first": round(loads[0], 1), "median": round(statistics.median(loads), 1)},
        "model": bool(engines.model),
        "check": {name: _time(lambda t: engines.checker.check(t, context), texts) for name, texts in corpus.items()},
    }
    questions = [q for q in _QUESTIONS for _ in range(max(1, args.items // len(_QUESTIONS)))]
    results["ask"] = _time(engines.answerer.ask, questions)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    load = results["knowledge_load_ms"]
    print(f"knowledge base load and indexing: {load['median']} ms median of 5 (first {load['first']} ms)")
    for name, r in results["check"].items():
        label = f"check ({name} chars)" if name.isdigit() else f"check ({name})"
        print(f"{label:<22} {r['items']:>5} items  {r['per_second']:>8.1f}/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms")
    r = results["ask"]
    print(f"{'ask':<22} {r['items']:>5} items  {r['per_second']:>8.1f}/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms")
    return 0


_QUESTIONS = [
    "Can I block a resident who keeps abusing me?",
    "Can I share a newspaper story about a councillor being investigated?",
    "Is it ok to post photos from the school fete?",
    "What is purdah and when does it start?",
    "Can I use the council logo on my Facebook page?",
    "Do I need to declare an interest if my brother owns the site?",
    "Should I turn on two-step verification?",
    "Does a views-are-my-own disclaimer protect me?",
]

def broadcast_bench(args: argparse.Namespace) -> int:
    from adapters import bench_broadcast

    return bench_broadcast.run(args)


def serve_bench(args: argparse.Namespace) -> int:
    from adapters import bench_serve

    return bench_serve.run(args)


BENCHES: dict[str, Bench] = {"checker": checker_bench, "broadcast": broadcast_bench, "serve": serve_bench}
