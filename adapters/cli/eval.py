"""`coach eval DRAFTS.yaml [QUESTIONS.yaml]`: how well the checker and Q&A do on labelled data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from bot.checker import Built, CheckContext, build
from bot.config import Settings
from bot.errors import BadInput
from bot.guidance import load_knowledge


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="measure the checker (and Q&A) on labelled drafts (and questions)")
    p.add_argument("drafts", help="YAML list of drafts: id, text, context, verdict, categories")
    p.add_argument("questions", nargs="?", help="YAML list of questions: id, question, topic, must_mention_any")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--errors", action="store_true", help="also list the items judged wrongly")
    p.add_argument("--no-model", action="store_true", help="rules and detectors only (for diagnosis)")
    p.set_defaults(func=run)


def read_items(path: str, key: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise BadInput(f"{path} is not valid YAML: {exc}") from exc
    if isinstance(data, dict):
        data = data.get(key)
    if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
        raise BadInput(f"{path}: expected a list of items (or a '{key}:' list)")
    return data


def score_drafts(engines: Built, items: list[dict[str, Any]], categories: list[str]) -> dict[str, Any]:
    n = len(items)
    correct = stops = stops_caught = risky = missed = oks = false_alarms = 0
    tp = {c: 0 for c in categories}
    fp = {c: 0 for c in categories}
    fn = {c: 0 for c in categories}
    errors: list[dict[str, Any]] = []
    for item in items:
        context = item.get("context") or {}
        assessment = engines.checker.check(
            str(item.get("text", "")),
            CheckContext(pre_election=bool(context.get("pre_election", False)), account=str(context.get("account", "personal"))),
        )
        gold = str(item.get("verdict"))
        got = assessment.verdict
        correct += got == gold
        if gold == "stop":
            stops += 1
            stops_caught += got == "stop"
        if gold == "ok":
            oks += 1
            false_alarms += got != "ok"
        else:
            risky += 1
            missed += got == "ok"
        gold_cats = set(item.get("categories") or [])
        got_cats = set(assessment.categories)
        for c in categories:
            if c in gold_cats and c in got_cats:
                tp[c] += 1
            elif c in got_cats:
                fp[c] += 1
            elif c in gold_cats:
                fn[c] += 1
        if got != gold or got_cats != gold_cats:
            errors.append({"id": item.get("id"), "gold": [gold, sorted(gold_cats)], "got": [got, sorted(got_cats)]})
    per_category: dict[str, dict[str, float]] = {}
    for c in categories:
        if tp[c] + fp[c] + fn[c] == 0:
            continue
        p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 0.0
        r = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per_category[c] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "support": tp[c] + fn[c]}
    macro = sum(v["f1"] for v in per_category.values()) / len(per_category) if per_category else 0.0
    return {
        "items": n,
        "verdict_accuracy": round(correct / n, 3) if n else 0.0,
        "stop_recall": round(stops_caught / stops, 3) if stops else None,
        "missed_risk_rate": round(missed / risky, 3) if risky else None,
        "false_alarm_rate": round(false_alarms / oks, 3) if oks else None,
        "macro_f1": round(macro, 3),
        "per_category": per_category,
        "errors": errors,
    }


def score_questions(engines: Built, items: list[dict[str, Any]]) -> dict[str, Any]:
    right = mentions = unsure = 0
    errors: list[dict[str, Any]] = []
    for item in items:
        answer = engines.answerer.ask(str(item.get("question", "")))
        ok_topic = answer.topic == item.get("topic")
        right += ok_topic
        unsure += answer.is_unsure
        wanted = [str(w).lower() for w in item.get("must_mention_any") or []]
        text = answer.answer.lower()
        mentioned = not wanted or any(w in text for w in wanted)
        mentions += mentioned
        if not ok_topic or not mentioned:
            errors.append({"id": item.get("id"), "gold": item.get("topic"), "got": answer.topic, "mentions": mentioned})
    n = len(items)
    return {
        "items": n,
        "topic_accuracy": round(right / n, 3) if n else 0.0,
        "must_mention_share": round(mentions / n, 3) if n else 0.0,
        "unsure_share": round(unsure / n, 3) if n else 0.0,
        "errors": errors,
    }


def run(args: argparse.Namespace) -> int:
    knowledge = load_knowledge(Settings.from_env().knowledge_dir)
    engines = build(knowledge, use_model=not args.no_model)
    drafts = score_drafts(engines, read_items(args.drafts, "drafts"), list(knowledge.vocabulary.risk))
    questions = score_questions(engines, read_items(args.questions, "questions")) if args.questions else None
    if args.json:
        out = {"drafts": drafts, "questions": questions}
        if not args.errors:
            drafts.pop("errors")
            if questions:
                questions.pop("errors")
        print(json.dumps(out, indent=2))
        return 0
    print(f"Drafts: {drafts['items']}")
    print(f"  verdict accuracy   {drafts['verdict_accuracy']:.3f}")
    print(f"  stop-recall        {_fmt(drafts['stop_recall'])}   (share of 'stop' items judged 'stop'; target >= 0.95)")
    print(f"  missed-risk rate   {_fmt(drafts['missed_risk_rate'])}   (risky items judged 'ok'; target <= 0.03)")
    print(f"  false-alarm rate   {_fmt(drafts['false_alarm_rate'])}   ('ok' items judged otherwise; target <= 0.05)")
    print(f"  category macro-F1  {drafts['macro_f1']:.3f}   (target >= 0.85)")
    print(f"  {'category':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    for c, v in drafts["per_category"].items():
        print(f"  {c:<18} {v['precision']:>9.3f} {v['recall']:>7.3f} {v['f1']:>6.3f} {v['support']:>8}")
    if args.errors:
        for e in drafts["errors"]:
            print(f"  wrong: {e['id']}: expected {e['gold'][0]} {e['gold'][1]}, got {e['got'][0]} {e['got'][1]}")
    if questions:
        print(f"Questions: {questions['items']}")
        print(f"  topic accuracy     {questions['topic_accuracy']:.3f}   (target >= 0.90)")
        print(f"  must-mention share {questions['must_mention_share']:.3f}   (answers containing one of must_mention_any)")
        print(f"  unsure share       {questions['unsure_share']:.3f}")
        if args.errors:
            for e in questions["errors"]:
                print(f"  wrong: {e['id']}: expected {e['gold']}, got {e['got']}, mentions={e['mentions']}")
    return 0


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"
