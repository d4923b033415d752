"""`coach ask QUESTION`: answers from the knowledge base, one question or a batch."""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from bot.checker import Answer, Built
from bot.errors import BadInput

from .engines import jsonl, load_engines


def register(sub: Any) -> None:
    p = sub.add_parser("ask", help="ask a question about social media and the rules")
    p.add_argument("question", nargs="*", help="the question")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--jsonl", action="store_true", help="batch: one JSON object a line on stdin, one answer a line out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engines = load_engines()
    if args.jsonl:
        if args.question:
            raise BadInput("--jsonl reads from standard input; give no QUESTION")

        def one(item: dict[str, Any]) -> dict[str, Any]:
            question = item.get("question")
            if not isinstance(question, str) or not question.strip():
                raise BadInput("each line needs \"question\": the question as a string")
            return engines.answerer.ask(question).to_dict()

        return jsonl(one)
    question = " ".join(args.question).strip()
    if not question:
        raise BadInput("give a question, for example: coach ask \"Can I block a resident who abuses me?\"")
    answer = engines.answerer.ask(question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render(answer, engines))
    return 0


def render(answer: Answer, engines: Built) -> str:
    lines = [answer.title, ""]
    lines += textwrap.wrap(answer.answer, 88)
    if not answer.is_unsure:
        if answer.ask_who:
            lines.append("")
            lines += textwrap.wrap(answer.ask_who, 88, initial_indent="Who to ask: ", subsequent_indent="            ")
    if answer.read_more:
        lines.append("")
        lines.append(f"Read more: {engines.knowledge.council.name} social media protocol, {answer.read_more}")
    return "\n".join(lines)
