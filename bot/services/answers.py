"""Chat: questions get an answer card from the knowledge base, or an honest "not sure".

Handles `ask <question>`, questions typed as free text, and the "Ask a
follow-up" and FAQ buttons. Question text is never stored or logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..checker import Answer
from ..replies import Choice, Choices, Fact, Facts, Heading, Link, Paragraph, Reply, text_reply
from ..router import Replies, Turn
from .drafts import category_label, engines_of

if TYPE_CHECKING:
    from ..coach import Coach

log = logging.getLogger(__name__)
MAX_FAQ_CHOICES = 6


class AnswerService:
    def __init__(self, coach: Coach):
        self.coach = coach
        self.engines = engines_of(coach)

    def _answerer(self):  # type: ignore[no-untyped-def]
        return self.engines.for_knowledge(self.coach.knowledge.current).answerer

    def ask_command(self, turn: Turn, args: str) -> Replies:
        question = args.strip()
        if not question:
            return [text_reply("Ask me after 'ask', for example: ask Can I block a resident who keeps abusing me?")]
        answer = self._answerer().ask(question)
        self._record(turn, answer)
        return [self.answer_card(answer)]

    def on_action(self, turn: Turn, action: str, value: str) -> Replies:
        if action == "ask.followup":
            return [self.followups(value)]
        if action == "ask.faq":
            answer = self._answerer().from_faq(value)
            if answer is None:
                return [text_reply("That question is no longer in the guidance. Type 'ask' and your question.")]
            self._record(turn, answer)
            return [self.answer_card(answer)]
        return [text_reply("That button is no longer in use. Type 'help' to see what I can do.")]

    def _record(self, turn: Turn, answer: Answer) -> None:
        verdict = "unsure" if answer.is_unsure else "answered"
        self.coach.stats.record(turn.incoming.platform, "ask", verdict, [answer.topic] if answer.topic else [], turn.now)
        log.info("question answered: topic=%s confidence=%.2f", answer.topic, answer.confidence)

    def followups(self, category: str) -> Reply:
        faqs = self._answerer().faqs_for(category)
        label = category_label(category)
        if not faqs:
            return text_reply(f"I have no common questions about {label.lower()} yet. Type 'ask' and your question.")
        choices = tuple(Choice(_short(f.question), "ask.faq", f.id) for f in faqs[:MAX_FAQ_CHOICES])
        parts = (
            Heading(f"Questions about {label.lower()}"),
            Paragraph("Pick a question, or type 'ask' and your own."),
            Choices(choices),
        )
        return Reply(summary=f"Common questions about {label.lower()}", parts=parts, kind="answer")

    def answer_card(self, answer: Answer) -> Reply:
        council = self.coach.knowledge.current.council
        if answer.is_unsure:
            parts: list = [Heading("I'm not sure"), Paragraph(answer.answer)]
            if answer.read_more:
                parts.append(Link(f"{council.name} social media protocol", answer.read_more))
            return Reply(summary="I'm not sure: ask your Monitoring Officer", parts=tuple(parts), kind="answer")
        parts = [Heading(answer.title), Paragraph(answer.answer)]
        facts = []
        if answer.ask_who:
            facts.append(Fact("Who to ask", answer.ask_who))
        facts.append(Fact("Topic", category_label(answer.topic)))
        parts.append(Facts(tuple(facts)))
        if answer.read_more:
            parts.append(Link(f"Read more: {council.name} social media protocol", answer.read_more))
        related = [f for f in self._answerer().faqs_for(answer.topic) if f.id != answer.faq_id][:3]
        if related:
            parts.append(Choices(tuple(Choice(_short(f.question), "ask.faq", f.id) for f in related)))
        return Reply(summary=answer.title, parts=tuple(parts), kind="answer")


def _short(text: str, limit: int = 75) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def install(coach: Coach) -> None:
    service = AnswerService(coach)
    coach.services["answers"] = service
    coach.router.command("ask", service.ask_command)
    coach.router.action("ask", service.on_action)
