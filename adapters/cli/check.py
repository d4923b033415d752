"""`coach check [TEXT | -]`: "can I post this?" from the command line, one draft or a batch."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from bot.checker import Assessment, Built, CheckContext
from bot.errors import BadInput

from .engines import jsonl, load_engines, make_context, pre_election_today

VERDICT_WORDS = {
    "ok": "OK: fine to post",
    "caution": "CAUTION: think again or fix it first",
    "stop": "STOP: do not post this as written",
}


def register(sub: Any) -> None:
    p = sub.add_parser("check", help='check a draft post: "can I post this?"')
    p.add_argument("text", nargs="?", help="the draft, or - to read it from standard input")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--jsonl", action="store_true", help="batch: one JSON object a line on stdin, one result a line out")
    p.add_argument("--pre-election", action="store_true", default=None, help="treat it as the pre-election period")
    p.add_argument("--account", choices=("personal", "official", "campaign"), default="personal")
    p.set_defaults(func=run)


def result_dict(assessment: Assessment) -> dict[str, Any]:
    return {
        "verdict": assessment.verdict,
        "categories": assessment.categories,
        "findings": [
            {k: v for k, v in f.to_dict().items() if k in ("category", "rule", "severity", "start", "end", "message", "suggestion", "evidence", "topic")}
            for f in assessment.findings
        ],
        "truncated": assessment.truncated,
    }


def run(args: argparse.Namespace) -> int:
    engines = load_engines()
    default_pre = pre_election_today(engines.knowledge.council)
    if args.jsonl:
        if args.text not in (None, "-"):
            raise BadInput("--jsonl reads from standard input; give no TEXT")

        def one(item: dict[str, Any]) -> dict[str, Any]:
            text = item.get("text")
            if not isinstance(text, str):
                raise BadInput("each line needs \"text\": the draft as a string")
            context = make_context(item.get("context"), default_pre)
            return result_dict(engines.checker.check(text, context))

        return jsonl(one)
    if args.text is None or args.text == "-":
        if args.text is None and sys.stdin.isatty():
            raise BadInput("give the draft as TEXT, or - to read it from standard input")
        text = sys.stdin.read()
    else:
        text = args.text
    context = CheckContext(
        pre_election=default_pre if args.pre_election is None else True,
        account=args.account,
    )
    assessment = engines.checker.check(text, context)
    if args.json:
        print(json.dumps(result_dict(assessment), ensure_ascii=False, indent=2))
    else:
        print(render(assessment, engines, context))
    return 0


def render(assessment: Assessment, engines: Built, context: CheckContext) -> str:
    lines = [VERDICT_WORDS[assessment.verdict]]
    if context.pre_election:
        lines.append("(checked as during the pre-election period)")
    topics = engines.knowledge.section("topics")
    for f in assessment.findings:
        lines.append("")
        lines.append(f"- {f.category.replace('_', ' ')} ({f.severity}): \"{f.evidence}\"")
        lines += textwrap.wrap(f.message, 88, initial_indent="  Why: ", subsequent_indent="       ")
        lines += textwrap.wrap(f.suggestion, 88, initial_indent="  Instead: ", subsequent_indent="           ")
        if f.topic in topics:
            lines.append(f"  Guidance: {topics[f.topic].title}")
    for note in assessment.notes:
        lines.append("")
        lines.append(note)
    if assessment.verdict != "ok":
        council = engines.knowledge.council
        lines.append("")
        lines.append(f"If in doubt, ask {council.ask_line}.")
    return "\n".join(lines)
