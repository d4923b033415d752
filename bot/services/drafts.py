"""Chat: `check <draft>` and free-text drafts get a verdict card.

The draft's text is never stored or logged; only the verdict and categories
are kept, for statistics.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..checker import Assessment, CheckContext, Engines
from ..replies import Badge, Choice, Choices, Divider, Fact, Facts, Heading, Link, Paragraph, Reply, text_reply
from ..router import Replies, Turn

if TYPE_CHECKING:
    from ..coach import Coach

log = logging.getLogger(__name__)

BADGES = {
    "ok": "OK to post",
    "caution": "Caution: think again before posting",
    "stop": "Stop: don't post this as written",
}
LEADS = {
    "ok": "I found nothing that worries me. Still ask yourself: would I say this at a public meeting?",
    "caution": "This could cause you problems. Have a look at what I found and think about rewording it.",
    "stop": "Posting this as written is likely to breach the law or the Code of Conduct.",
}
MAX_FINDINGS = 4
MAX_EVIDENCE = 160


def category_label(category: str) -> str:
    return category.replace("_", " ").capitalize()


def engines_of(coach: Coach) -> Engines:
    """One set of engines per coach, rebuilt when the knowledge base is reloaded."""
    engines = coach.services.get("engines")
    if not isinstance(engines, Engines):
        engines = Engines()
        coach.services["engines"] = engines
    return engines


class DraftService:
    def __init__(self, coach: Coach):
        self.coach = coach
        self.engines = engines_of(coach)

    def context_for(self, turn: Turn) -> CheckContext:
        council = self.coach.knowledge.current.council
        today = turn.now.astimezone(council.tz).date()
        return CheckContext(pre_election=council.is_pre_election(today), platform=turn.incoming.platform)

    def check_command(self, turn: Turn, args: str) -> Replies:
        draft = args.strip()
        if not draft:
            return [text_reply("Paste the post after 'check', for example: check Great turnout at the litter pick today!")]
        built = self.engines.for_knowledge(self.coach.knowledge.current)
        context = self.context_for(turn)
        assessment = built.checker.check(draft, context)
        self.coach.stats.record(turn.incoming.platform, "check", assessment.verdict, assessment.categories, turn.now)
        log.info("draft checked: verdict=%s categories=%s", assessment.verdict, ",".join(assessment.categories))
        card = self.verdict_card(assessment, context)
        reminders = self.coach.services.get("reminders")
        late = reminders.late_night_note(turn.member, turn.now) if reminders is not None else None
        if late:  # social media is 24/7, but late-night posts are the ones people regret
            card = Reply(card.summary, card.parts + (Paragraph(late),), kind=card.kind)
        return [card]

    def verdict_card(self, assessment: Assessment, context: CheckContext) -> Reply:
        knowledge = self.coach.knowledge.current
        topics = knowledge.section("topics")
        verdict = assessment.verdict
        parts: list = [Heading("Can I post this?"), Badge(verdict, BADGES[verdict]), Paragraph(LEADS[verdict])]
        for finding in assessment.findings[:MAX_FINDINGS]:
            evidence = finding.evidence
            if len(evidence) > MAX_EVIDENCE:
                evidence = evidence[: MAX_EVIDENCE - 3].rstrip() + "..."
            facts = [
                Fact("Risk", f"{category_label(finding.category)} ({finding.severity})"),
                Fact("In your draft", f"\u201c{evidence}\u201d"),
                Fact("Why it matters", finding.message),
                Fact("Instead", finding.suggestion),
            ]
            topic = topics.get(finding.topic)
            if topic is not None:
                facts.append(Fact("Guidance", topic.title))
            parts += [Divider(), Facts(tuple(facts))]
        if len(assessment.findings) > MAX_FINDINGS:
            parts.append(Paragraph(f"There are {len(assessment.findings) - MAX_FINDINGS} more things to look at."))
        if context.pre_election:
            parts.append(Paragraph("I checked this as during the pre-election period."))
        for note in assessment.notes:
            parts.append(Paragraph(note))
        council = knowledge.council
        if verdict != "ok":
            parts.append(Paragraph(f"If in doubt, ask {council.ask_line}."))
            category = assessment.findings[0].category
            parts.append(
                Choices(
                    (
                        Choice("Ask a follow-up", "ask.followup", category),
                        Choice("Quiz me on this", "quiz.category", category),
                    )
                )
            )
        if council.protocol_url and verdict != "ok":
            parts.append(Link(f"{council.name} social media protocol", council.protocol_url))
        parts.append(Paragraph("I don't keep the text of your draft."))
        summary = BADGES[verdict]
        if assessment.categories:
            summary += ": " + ", ".join(category_label(c).lower() for c in assessment.categories)
        return Reply(summary=summary, parts=tuple(parts), kind="verdict")


def install(coach: Coach) -> None:
    service = DraftService(coach)
    coach.services["drafts"] = service
    coach.router.command("check", service.check_command)
